from swarm_settle import swarm_placement, swarm_unsettled


def service(name, replicas=None, sid=None):
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    return {"ID": sid or f"id-{name}", "Spec": {"Name": name, "Mode": mode}}


def task(name, state="running", err=None, desired="running", node="n1"):
    status = {"State": state}
    if err is not None:
        status["Err"] = err
    return {"ServiceID": f"id-{name}", "DesiredState": desired, "Status": status, "NodeID": node}


NO_NODE = "no suitable node (scheduling constraints not satisfied on 3 nodes)"


def test_every_task_running_is_settled():
    services = [service("web", 2), service("proxy")]
    tasks = [task("web"), task("web"), task("proxy"), task("proxy"), task("proxy")]
    assert swarm_unsettled(services, tasks) == {"waiting": [], "unplaceable": {}}


def test_a_starting_task_is_waited_for():
    tasks = [task("web"), task("web", state="starting")]
    assert swarm_unsettled([service("web", 2)], tasks)["waiting"] == ["web 1/2"]


def test_replicas_not_created_yet_are_waited_for():
    # Just after a drain, before the orchestrator creates the replacements.
    assert swarm_unsettled([service("web", 3)], [task("web"), task("web")])["waiting"] == ["web 2/3"]


def test_a_service_scaled_to_zero_is_settled():
    assert swarm_unsettled([service("web", 0)], []) == {"waiting": [], "unplaceable": {}}


def test_tasks_on_their_way_out_do_not_count():
    tasks = [task("web"), task("web", state="running", desired="shutdown")]
    assert swarm_unsettled([service("web", 2)], tasks)["waiting"] == ["web 1/2"]


def test_a_rolling_update_under_way_is_waited_for():
    # Every replica runs, but the old version's are yet to be replaced.
    web = dict(service("web", 2), UpdateStatus={"State": "updating"})
    assert swarm_unsettled([web], [task("web"), task("web")])["waiting"] == ["web updating"]


def test_a_rollback_under_way_is_waited_for_and_a_finished_one_is_settled():
    tasks = [task("web"), task("web")]
    rolling_back = dict(service("web", 2), UpdateStatus={"State": "rollback_started"})
    rolled_back = dict(service("web", 2), UpdateStatus={"State": "rollback_completed"})
    assert swarm_unsettled([rolling_back], tasks)["waiting"] == ["web rollback_started"]
    assert swarm_unsettled([rolled_back], tasks) == {"waiting": [], "unplaceable": {}}


def test_a_task_no_node_can_take_is_unplaceable_not_waiting():
    result = swarm_unsettled([service("db", 1)], [task("db", state="pending", err=NO_NODE)])
    assert result == {"waiting": [], "unplaceable": {"db": NO_NODE}}


def test_a_pending_task_without_a_verdict_is_still_waited_for():
    result = swarm_unsettled([service("db", 1)], [task("db", state="pending")])
    assert result == {"waiting": ["db 0/1"], "unplaceable": {}}


def test_a_service_missing_tasks_is_waiting_even_if_one_is_unplaceable():
    result = swarm_unsettled([service("db", 2)], [task("db", state="pending", err=NO_NODE)])
    assert result["waiting"] == ["db 0/2"]


def test_global_services_count_their_own_tasks():
    tasks = [task("proxy"), task("proxy", state="preparing")]
    assert swarm_unsettled([service("proxy")], tasks)["waiting"] == ["proxy 1/2"]


def test_tasks_of_other_services_are_ignored():
    tasks = [task("web"), task("other", state="starting")]
    assert swarm_unsettled([service("web", 1)], tasks)["waiting"] == []


def test_services_are_reported_in_name_order():
    services = [service("b", 1), service("a", 1)]
    assert swarm_unsettled(services, [])["waiting"] == ["a 0/1", "b 0/1"]


def test_placement_names_the_nodes_running_each_service():
    nodes = [{"ID": "n1", "Description": {"Hostname": "node1"}}, {"ID": "n2", "Description": {"Hostname": "node2"}}]
    tasks = [task("web", node="n2"), task("web", node="n1"), task("web", node="n2", state="starting"),
             task("db", node="n1", desired="shutdown")]
    assert swarm_placement([service("web", 3), service("db", 1)], tasks, nodes) == {
        "db": [], "web": ["node1", "node2"]}
