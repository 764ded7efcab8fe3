"""Play-with-Docker-like nodes: the project adopts the engine and the swarm it finds."""

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from swarm_testing import RUNNER, STACK, node, replicas, serving, swarm_nodes

EVERY_NODE = RUNNER.get_hosts("all")


@pytest.mark.parametrize("name", EVERY_NODE)
def test_no_systemd_runs_the_node(name):
    assert node(name).check_output("cat /proc/1/comm") != "systemd"
    assert not node(name).exists("systemctl") or node(name).run("systemctl is-system-running").rc != 0


@pytest.mark.parametrize("name", EVERY_NODE)
def test_docker_is_the_one_the_entrypoint_started(name):
    host = node(name)
    pid = host.check_output("pgrep -xo dockerd")
    parent = host.check_output(f"ps -o ppid= -p {pid}").strip()
    # start-docker exec'd dockerd under tini, PID 1.
    assert parent == "1"
    # The role adopted it: no Docker apt repository, no package installed by the role.
    assert not host.file("/etc/apt/sources.list.d/docker.list").exists


def first_converge_started():
    """When site.yml's first play started, from the Ansible log (create wrote the lines before it)."""
    log = Path(os.environ["ANSIBLE_LOG_PATH"]).read_text()
    first = re.search(r"^(\S+ \S+),\d+ .*PLAY \[Check the inventory\]", log, re.M)
    assert first, "no site.yml run in the Ansible log"
    return datetime.strptime(first.group(1), "%Y-%m-%d %H:%M:%S").astimezone(timezone.utc)


def test_the_swarm_made_before_site_yml_was_adopted(manager):
    created = manager.check_output("docker info --format '{{.Swarm.Cluster.CreatedAt}}'")
    created_at = datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", created.split(" +")[0])).replace(
        tzinfo=timezone.utc)
    assert created_at < first_converge_started()


def test_every_node_is_ready_in_its_role(manager):
    nodes = swarm_nodes(manager)
    assert {name: n["Spec"]["Role"] for name, n in nodes.items()} == {
        "node1": "manager", "node2": "worker", "node3": "worker"}
    assert {n["Status"]["State"] for n in nodes.values()} == {"ready"}
    assert nodes["node2"]["Spec"]["Labels"].get("storage") == "true"


def test_the_gallery_runs_every_replica_and_answers_on_every_node(manager, node_urls):
    counts = replicas(manager)
    assert {f"{STACK}_nginx", f"{STACK}_gallery", f"{STACK}_redis"} <= set(counts)
    assert all(count.split("/")[0] == count.split("/")[1] for count in counts.values()), counts
    assert serving(node_urls, EVERY_NODE)
