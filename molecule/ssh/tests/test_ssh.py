"""Nodes reached as an operator's VMs are: over SSH as admin with sudo, inventory names apart from hostnames.

The tests share one cluster and run in file order; each leaves it whole for the next.
"""

import os
import stat
from pathlib import Path

import pytest
import requests
import yaml

from swarm_testing import RUNNER, STACK, archive_copies, changed, make_png, node, playbook, replicas, swarm_nodes, upload

HOSTS = RUNNER.get_hosts("all")
# Inventory name -> hostname, as molecule.yml sets them apart.
HOSTNAMES = {"swarm-1": "node1", "swarm-2": "node2", "swarm-3": "node3"}


@pytest.mark.parametrize("name", HOSTS)
def test_ansible_logged_in_over_ssh_as_admin_and_became_root_with_sudo(name):
    host = node(name)
    assert host.check_output("hostname") == HOSTNAMES[name]
    logins = host.check_output("journalctl --no-pager -q -t sshd -t sshd-session")
    assert "Accepted publickey for admin" in logins
    assert "for root" not in logins
    assert "admin : PWD=" in host.check_output("journalctl --no-pager -q -t sudo")


def test_preflight_names_a_run_without_become():
    result = playbook("preflight.yml", "-e", "ansible_become=false")
    assert result.returncode != 0
    assert "swarm-1: tasks run as admin, not root" in result.output, result.output[-3000:]
    assert set(changed(result.output).values()) <= {0}


def test_the_swarm_knows_its_nodes_by_hostname(manager):
    nodes = swarm_nodes(manager)
    assert {name: n["Spec"]["Role"] for name, n in nodes.items()} == {
        "node1": "manager", "node2": "worker", "node3": "worker"}
    assert {n["Status"]["State"] for n in nodes.values()} == {"ready"}


def test_the_archive_went_over_ssh_and_no_copy_is_left():
    for name in HOSTS:
        host = node(name)
        assert host.check_output("docker image ls --quiet gallery/app")
        assert not archive_copies(host), f"{name} still holds a copy of the archive"


def test_an_image_uploaded_on_one_node_is_served_by_another(node_urls):
    image = make_png(4, 3, (200, 10, 30))
    image_id = upload(node_urls["swarm-1"], "ssh.png", image)
    for name in HOSTS:
        assert requests.get(f"{node_urls[name]}/images/{image_id}", timeout=10).content == image, name


def test_a_name_that_is_neither_host_nor_node_is_refused(manager):
    before = swarm_nodes(manager)
    result = playbook("remove-node.yml", "-e", "node=nosuch", "-e", "confirm=yes")
    assert result.returncode != 0
    assert "nosuch is neither a host of the inventory nor a node of the swarm" in result.output
    assert set(changed(result.output).values()) <= {0}
    assert swarm_nodes(manager) == before


@pytest.mark.parametrize("name", ["swarm-3", "node3"], ids=["inventory-name", "hostname"])
def test_remove_a_worker_by_either_name_and_site_yml_joins_it_again(manager, node_urls, name):
    result = playbook("remove-node.yml", "-e", f"node={name}", "-e", "confirm=yes")
    assert result.returncode == 0, result.output[-3000:]
    assert "node3" not in swarm_nodes(manager)
    # The leave ran on the right host, whichever name was given.
    assert node("swarm-3").check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "inactive"
    assert replicas(manager)[f"{STACK}_gallery"] == "3/3"
    result = playbook("site.yml")
    assert result.returncode == 0, result.output[-3000:]
    assert [host for host, count in changed(result.output).items() if count] == ["swarm-3"]
    node3 = swarm_nodes(manager)["node3"]
    assert node3["Spec"]["Role"] == "worker" and node3["Status"]["State"] == "ready"


def test_site_yml_ends_a_drain_an_earlier_run_left(manager):
    manager.check_output("docker node update --availability drain --label-add ansible.drained=true node3")
    result = playbook("site.yml")
    assert result.returncode == 0, result.output[-3000:]
    node3 = swarm_nodes(manager)["node3"]
    assert node3["Spec"]["Availability"] == "active"
    assert "ansible.drained" not in (node3["Spec"].get("Labels") or {})
    again = playbook("site.yml")
    assert again.returncode == 0 and set(changed(again.output).values()) == {0}, again.output[-3000:]


def test_a_drain_made_by_hand_stays(manager):
    manager.check_output("docker node update --availability drain node3")
    try:
        result = playbook("site.yml")
        assert swarm_nodes(manager)["node3"]["Spec"]["Availability"] == "drain"
        # With node3 out, two nodes are left for the two Redis read replicas,
        # one of them the storage node they avoid: the deploy says so.
        assert result.returncode != 0
        assert "No node can run gallery_redis-replica" in result.output, result.output[-3000:]
    finally:
        manager.check_output("docker node update --availability active node3")


def test_a_backup_of_the_only_manager_warns_and_lands_on_the_controller(manager):
    """backup.yml over SSH with sudo: fetched files belong to the operator, named by inventory name and hostname."""
    result = playbook("backup.yml")
    assert result.returncode == 0, result.output[-3000:]
    assert "Warning: swarm-1 is the swarm" in result.text and "only manager" in result.text
    backups = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "backups"
    (backup,) = backups.iterdir()
    manifest = yaml.safe_load((backup / "manifest.yml").read_text())
    assert (manifest["host"], manifest["hostname"]) == ("swarm-1", "node1")
    assert manifest["redis"]["keys"] > 0
    for path in backup.iterdir():
        assert (path.stat().st_uid, stat.S_IMODE(path.stat().st_mode)) == (os.getuid(), 0o600)
    nodes = swarm_nodes(manager)
    assert {(n["Status"]["State"], n["Spec"]["Availability"]) for n in nodes.values()} == {("ready", "active")}
    assert nodes["node1"]["ManagerStatus"]["Leader"]

    refused = playbook("restore.yml", "-e", "confirm=yes")
    assert refused.returncode != 0 and "The swarm is not lost" in refused.text
