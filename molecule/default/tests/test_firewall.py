"""The swarm ports firewall (swarm_firewall_enabled): members get in, the controller does not.

The controller runs these tests from outside the swarm (the gateway of the
nodes' network), so it stands for any host that is not a member.
"""

import json
import re
import socket

import pytest
import requests

from swarm_testing import RUNNER, changed, eventually, node, playbook, replicas, serving, swarm_nodes

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


def test_a_new_host_joins_once_firewall_yml_let_it_in(manager, node_urls):
    """Scale-out with the firewall on: the current nodes drop a host their rules do not list.

    The last worker leaves and the others' rules are rewritten without it, which
    makes it a new host as far as the firewall goes.
    """
    new = WORKERS[-1]
    node(new).check_output("docker swarm leave")
    others = [advertised(name) for name in EVERY_NODE if name != new]
    result = playbook("firewall.yml", "--limit", f"!{new}", "-e", json.dumps({"swarm_firewall_members": others}))
    assert result.returncode == 0, result.output[-3000:]

    refused = playbook("site.yml", "-e", "preflight_port_timeout=3")
    assert refused.returncode != 0
    address = node(MANAGER).check_output("docker info --format '{{.Swarm.NodeAddr}}'")
    assert re.search(rf"{new} -> {MANAGER} \({re.escape(address)}\) 2377/tcp", refused.output), refused.output[-3000:]
    assert "run firewall.yml first" in refused.output
    assert set(changed(refused.output).values()) == {0}

    opened = playbook("firewall.yml")
    assert opened.returncode == 0, opened.output[-3000:]
    assert changed(opened.output)[MANAGER] > 0

    joined = playbook("site.yml")
    assert joined.returncode == 0, joined.output[-3000:]
    assert swarm_nodes(manager)[new]["Status"]["State"] == "ready"
    eventually(lambda: all(running == wanted for running, wanted in
                           (count.split("/") for count in replicas(manager).values())), timeout=180)
    assert serving(node_urls, EVERY_NODE)
