"""Faults the cluster must ride out, and re-runs of site.yml that must heal it.

The tests share the cluster and run in file order; each leaves it whole.
"""

import os
import re
import signal
import subprocess
import time

from swarm_testing import (ARTIFACTS, INVENTORY, PROJECT, RUNNER, STACK, RequestLoop, eventually, node, playbook,
                           serving, swarm_nodes)

MANAGER = RUNNER.get_hosts("managers")[0]
WORKERS = RUNNER.get_hosts("workers")
EVERY_NODE = RUNNER.get_hosts("all")


def state(name):
    return node(name).check_output("docker info --format '{{.Swarm.LocalNodeState}}'")


def whole(manager):
    """Every inventory host is a Ready node, listed once, and every service runs all its tasks."""
    nodes = swarm_nodes(manager)
    listed = manager.check_output("docker node ls --format '{{.Hostname}}'").split()
    services = manager.check_output(f"docker stack services {STACK} --format '{{{{.Replicas}}}}'").split("\n")
    counts = [s.split()[0].split("/") for s in services]
    return (sorted(listed) == sorted(EVERY_NODE)
            and all(n["Status"]["State"] == "ready" for n in nodes.values())
            and all(running == wanted for running, wanted in counts))


def restart_docker(name, node_urls, manager):
    with RequestLoop(f"docker restart on {name}", node_urls.values(), ["/", "/api/images", "/healthz"],
                     unsteady=[node_urls[name]]) as loop:
        node(name).check_output("systemctl restart docker")
        if state(name) == "locked":
            # Autolock: the manager's engine is up, but out of the swarm until unlocked.
            result = playbook("site.yml")
            assert result.returncode == 0, result.output
        eventually(lambda: serving(node_urls, [name]), timeout=180)
        eventually(lambda: whole(manager), timeout=180)
    assert loop.failures == [], loop.failures
    assert loop.answered > 50
    return loop


def test_engine_restart_on_a_worker_keeps_the_stack_serving(manager, node_urls):
    restart_docker(WORKERS[-1], node_urls, manager)


def test_engine_restart_on_the_manager_keeps_the_stack_serving(manager, node_urls):
    restart_docker(MANAGER, node_urls, manager)


def test_nodes_taken_out_behind_ansibles_back_rejoin(manager, node_urls):
    """A worker that left by itself and one the manager removed both join again on a run started at once.

    The run does not wait for the managers to mark the worker that left Down: its
    old entry must still be gone at the end, not only after a second run.

    The run is at -vvv: it joins nodes, so its output is where a join token or the
    unlock key would show if any task leaked one.
    """
    left, removed = WORKERS[-1], WORKERS[0]
    node(left).check_output("docker swarm leave")
    manager.check_output(f"docker node rm --force {removed}")

    result = playbook("site.yml", "-vvv")
    assert result.returncode == 0, result.output[-5000:]
    assert "Join workers to the swarm" in result.output
    assert [state(name) for name in EVERY_NODE] == ["active"] * len(EVERY_NODE)
    eventually(lambda: whole(manager), timeout=180)
    assert serving(node_urls, EVERY_NODE)

    secrets = [manager.check_output(f"docker swarm join-token -q {kind}") for kind in ("worker", "manager")]
    unlock = manager.run("docker swarm unlock-key -q")
    if unlock.rc == 0 and unlock.stdout.strip():
        secrets.append(unlock.stdout.strip())
    assert all(len(secret) > 20 for secret in secrets)
    for secret in secrets:
        assert secret not in result.output
    assert not re.search(r"SWMTKN-1-[0-9a-z]{20,}|SWMKEY-1-\S{20,}", result.output)


def test_a_run_killed_halfway_converges_when_run_again(manager, node_urls):
    """Both workers are out; the run is killed as soon as the first is back in the swarm."""
    for name in WORKERS:
        node(name).check_output("docker swarm leave")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    command = ["ansible-playbook", "-i", INVENTORY, str(PROJECT / "site.yml")]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                           env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not any(state(name) == "active" for name in WORKERS):
            assert run.poll() is None, "site.yml ended before any worker joined"
            assert time.monotonic() < deadline, "no worker joined within 600s"
            time.sleep(0.2)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    halfway = {name: state(name) for name in WORKERS}
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "interrupted-run.log").open("a") as log:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} site.yml killed with the workers at {halfway}\n")
    assert not whole(manager)

    result = playbook("site.yml")
    assert result.returncode == 0, result.output[-5000:]
    eventually(lambda: whole(manager), timeout=180)
    assert serving(node_urls, EVERY_NODE)
