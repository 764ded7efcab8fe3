"""The swarm that site.yml formed, read from the nodes' own Docker engines."""

import json
import os
import re
from pathlib import Path

import pytest

from swarm_testing import RUNNER

testinfra_hosts = RUNNER.get_hosts("all")


@pytest.fixture(scope="module")
def nodes(manager):
    lines = manager.check_output("docker node ls --format '{{json .}}'").splitlines()
    return [json.loads(line) for line in lines]


def test_docker_runs_under_systemd(host):
    docker = host.service("docker")
    assert docker.is_running
    assert docker.is_enabled


def test_swarm_is_active(host):
    assert host.check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "active"


def test_node_role_matches_inventory(host):
    expected = "managers" in host.ansible.get_variables()["group_names"]
    control = host.check_output("docker info --format '{{.Swarm.ControlAvailable}}'")
    assert control == str(expected).lower()


def test_node_labels_match_inventory(host, manager):
    wanted = host.ansible.get_variables().get("docker_swarm_node_labels", {})
    node_id = host.check_output("docker info --format '{{.Swarm.NodeID}}'")
    labels = json.loads(manager.check_output(f"docker node inspect {node_id} --format '{{{{json .Spec.Labels}}}}'"))
    assert {k: labels.get(k) for k in wanted} == wanted


def test_exactly_three_nodes_ready(nodes):
    assert len(nodes) == 3
    assert [n["Status"] for n in nodes] == ["Ready"] * 3


def test_exactly_one_leader(nodes):
    assert [n["ManagerStatus"] for n in nodes].count("Leader") == 1


def test_join_tokens_absent_from_ansible_log(manager):
    log = Path(os.environ["ANSIBLE_LOG_PATH"]).read_text()
    # The log must hold the converge that joined the workers, or this proves nothing.
    assert "Join workers to the swarm" in log
    tokens = [manager.check_output(f"docker swarm join-token -q {kind}") for kind in ("worker", "manager")]
    for token in tokens:
        assert token.startswith("SWMTKN-1-")
        assert token not in log
    assert not re.search(r"SWMTKN-1-[0-9a-z]{20,}", log)
