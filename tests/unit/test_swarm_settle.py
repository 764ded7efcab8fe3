import subprocess

from role_files import load

# Ansible ships the role's module_utils inside the module it runs; here the module's
# import of ansible.module_utils.swarm_docker_api must find the role's file under that name.
load("ansible.module_utils.swarm_docker_api", "swarm/module_utils/swarm_docker_api.py")
swarm_settle = load("swarm_settle", "swarm_settle/library/swarm_settle.py")


def service(name, replicas=None, sid=None):
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    return {"ID": sid or f"id-{name}", "CreatedAt": "2026-11-23T03:40:00.5Z", "UpdatedAt": UPDATED,
            "Spec": {"Name": name, "Mode": mode, "TaskTemplate": {"ContainerSpec": {"Image": f"{name}:1"}}}}


def task(name, state="running", err=None, desired="running", node="n1"):
    status = {"State": state}
    if err is not None:
        status["Err"] = err
    return {"ServiceID": f"id-{name}", "DesiredState": desired, "Status": status, "NodeID": node}


UPDATED = "2026-11-23T03:41:44.123456789Z"
UPDATED_EPOCH = 1795405304.123456789
NO_NODE = "no suitable node (scheduling constraints not satisfied on 3 nodes)"


def test_every_task_running_is_settled():
    services = [service("web", 2), service("proxy")]
    tasks = [task("web"), task("web"), task("proxy"), task("proxy"), task("proxy")]
    assert swarm_settle.unsettled(services, tasks) == {"waiting": [], "unplaceable": {}}


def test_a_starting_task_is_waited_for():
    tasks = [task("web"), task("web", state="starting")]
    assert swarm_settle.unsettled([service("web", 2)], tasks)["waiting"] == ["web 1/2"]


def test_replicas_not_created_yet_are_waited_for():
    # Just after a drain, before the orchestrator creates the replacements.
    assert swarm_settle.unsettled([service("web", 3)], [task("web"), task("web")])["waiting"] == ["web 2/3"]


def test_a_service_scaled_to_zero_is_settled():
    assert swarm_settle.unsettled([service("web", 0)], []) == {"waiting": [], "unplaceable": {}}


def test_tasks_on_their_way_out_do_not_count():
    tasks = [task("web"), task("web", state="running", desired="shutdown")]
    assert swarm_settle.unsettled([service("web", 2)], tasks)["waiting"] == ["web 1/2"]


def test_a_rolling_update_under_way_is_waited_for():
    # Every replica runs, but the old version's are yet to be replaced.
    web = dict(service("web", 2), UpdateStatus={"State": "updating"})
    assert swarm_settle.unsettled([web], [task("web"), task("web")])["waiting"] == ["web updating"]


def test_a_rollback_under_way_is_waited_for_and_a_finished_one_is_settled():
    tasks = [task("web"), task("web")]
    rolling_back = dict(service("web", 2), UpdateStatus={"State": "rollback_started"})
    rolled_back = dict(service("web", 2), UpdateStatus={"State": "rollback_completed"})
    assert swarm_settle.unsettled([rolling_back], tasks)["waiting"] == ["web rollback_started"]
    assert swarm_settle.unsettled([rolled_back], tasks) == {"waiting": [], "unplaceable": {}}


def test_a_task_no_node_can_take_is_unplaceable_not_waiting():
    result = swarm_settle.unsettled([service("db", 1)], [task("db", state="pending", err=NO_NODE)])
    assert result == {"waiting": [], "unplaceable": {"db": NO_NODE}}


def test_a_pending_task_without_a_verdict_is_still_waited_for():
    result = swarm_settle.unsettled([service("db", 1)], [task("db", state="pending")])
    assert result == {"waiting": ["db 0/1"], "unplaceable": {}}


def test_a_service_missing_tasks_is_waiting_even_if_one_is_unplaceable():
    result = swarm_settle.unsettled([service("db", 2)], [task("db", state="pending", err=NO_NODE)])
    assert result["waiting"] == ["db 0/2"]


def test_global_services_count_their_own_tasks():
    tasks = [task("proxy"), task("proxy", state="preparing")]
    assert swarm_settle.unsettled([service("proxy")], tasks)["waiting"] == ["proxy 1/2"]


def test_tasks_of_other_services_are_ignored():
    tasks = [task("web"), task("other", state="starting")]
    assert swarm_settle.unsettled([service("web", 1)], tasks)["waiting"] == []


def test_services_are_reported_in_name_order():
    services = [service("b", 1), service("a", 1)]
    assert swarm_settle.unsettled(services, [])["waiting"] == ["a 0/1", "b 0/1"]


class Clock:
    """Time that passes only when the loop sleeps."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def looks(*states):
    """A look() returning, one call after the other, web (2 replicas) with these tasks; the last repeats."""
    calls = []

    def look():
        calls.append(1)
        return [service("web", 2)], states[min(len(calls), len(states)) - 1]
    return look, calls


def test_settle_ends_on_the_first_settled_look_when_no_service_changed_lately():
    clock = Clock()
    both = [task("web"), task("web")]
    look, calls = looks([task("web")], both, [task("web")])
    _, verdict = swarm_settle.settle(look, timeout=60, interval=0.5, clock=clock, sleep=clock.sleep,
                                     now=lambda: UPDATED_EPOCH + 60)
    assert len(calls) == 2
    assert verdict == {"waiting": [], "unplaceable": {}}


def test_right_after_a_change_settle_ends_on_the_second_settled_look_in_a_row():
    clock = Clock()
    both = [task("web"), task("web")]
    look, calls = looks([task("web")], both, [task("web")], both, both, both)
    _, verdict = swarm_settle.settle(look, timeout=60, interval=0.5, clock=clock, sleep=clock.sleep,
                                     now=lambda: UPDATED_EPOCH + 0.5)
    # One settled look between two that were not is not enough.
    assert len(calls) == 5
    assert verdict == {"waiting": [], "unplaceable": {}}
    assert clock.now == 2.0


def test_when_no_spec_changed_the_first_settled_look_ends_the_wait_even_right_after_an_update():
    clock = Clock()
    both = [task("web"), task("web")]
    look, calls = looks([task("web")], both, both)
    _, verdict = swarm_settle.settle(look, timeout=60, interval=0.5, specs_changed=False, clock=clock,
                                     sleep=clock.sleep, now=lambda: UPDATED_EPOCH + 0.5)
    assert len(calls) == 2
    assert verdict == {"waiting": [], "unplaceable": {}}


def test_api_timestamps_are_read_to_the_fraction_of_a_second():
    assert abs(swarm_settle._epoch(UPDATED) - UPDATED_EPOCH) < 1e-6
    assert swarm_settle._epoch("2026-11-23T03:41:44Z") == 1795405304


def test_settle_gives_up_at_the_timeout_with_the_last_verdict():
    clock = Clock()
    look, calls = looks([task("web"), task("web", state="starting")])
    _, verdict = swarm_settle.settle(look, timeout=3, interval=0.5, clock=clock, sleep=clock.sleep)
    assert verdict["waiting"] == ["web 1/2"]
    assert clock.now == 3.0
    assert len(calls) == 7


def test_summary_keeps_what_a_report_needs_only():
    web = dict(service("web", 2), UpdateStatus={"State": "rollback_completed", "Message": "update paused"})
    assert swarm_settle.summary(web) == {"name": "web", "image": "web:1", "replicas": 2,
                                         "update_state": "rollback_completed", "update_message": "update paused"}
    assert swarm_settle.summary(service("proxy")) == {"name": "proxy", "image": "proxy:1", "replicas": None,
                                                      "update_state": None, "update_message": None}


def test_the_module_reads_this_machines_engine(run_module):
    state = subprocess.run(["docker", "info", "--format", "{{.Swarm.ControlAvailable}}"],
                           capture_output=True, text=True, check=True).stdout.strip()
    result = run_module("swarm_settle", "swarm_settle", timeout=1)
    if state == "true":
        assert not result.get("failed") and isinstance(result["waiting"], list)
    else:
        # Only a manager lists services: the engine's own answer is passed on.
        assert result["failed"] and "not a swarm manager" in result["msg"]
