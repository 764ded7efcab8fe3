"""The swarm ports firewall (swarm_firewall_enabled): members get in, the controller does not.

The controller runs these tests from outside the swarm (the gateway of the
nodes' network), so it stands for any host that is not a member.
"""

import json
import socket

import pytest
import requests

from swarm_testing import RUNNER, node

MANAGER = RUNNER.get_hosts("managers")[0]
WORKERS = RUNNER.get_hosts("workers")
EVERY_NODE = RUNNER.get_hosts("all")


def advertised(name):
    return node(name).check_output("docker info --format '{{.Swarm.NodeAddr}}'")


def reaches(source, address, port):
    """Whether a TCP connection from node `source` to address:port gets through."""
    probe = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)"
    return node(source).run(f"python3 -c '{probe}' {address} {port}").rc == 0


def controller_reaches(address, port):
    try:
        socket.create_connection((address, port), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("name", EVERY_NODE)
def test_the_ruleset_lists_exactly_the_members(name):
    listed = json.loads(node(name).check_output("nft -j list set inet swarm_firewall members_ipv4"))
    elements = next(item["set"] for item in listed["nftables"] if "set" in item).get("elem", [])
    assert sorted(elements) == sorted(advertised(member) for member in EVERY_NODE)


@pytest.mark.parametrize("name", EVERY_NODE)
def test_the_rules_are_loaded_at_boot(name):
    assert node(name).service("swarm-firewall").is_enabled


@pytest.mark.parametrize("worker", WORKERS)
def test_members_reach_the_managers_cluster_port(worker):
    assert reaches(worker, advertised(MANAGER), 2377)


@pytest.mark.parametrize("worker", WORKERS)
def test_members_reach_each_others_gossip_port(worker):
    assert reaches(MANAGER, advertised(worker), 7946)


def test_the_controller_cannot_reach_the_cluster_port(manager):
    # dockerd serves it: the connection fails because of the firewall alone.
    assert manager.socket("tcp://2377").is_listening
    assert not controller_reaches(advertised(MANAGER), 2377)


@pytest.mark.parametrize("name", EVERY_NODE)
def test_the_controller_cannot_reach_the_gossip_port(name):
    assert node(name).socket("tcp://7946").is_listening
    assert not controller_reaches(advertised(name), 7946)


@pytest.mark.parametrize("name", EVERY_NODE)
def test_the_published_gallery_port_stays_open(node_urls, name):
    assert requests.get(f"{node_urls[name]}/healthz", timeout=10).status_code == 200
