"""Day-2 operations on three managers and two workers, in the order an operator meets them.

The tests share one cluster and change it: they run in file order, each
leaving the cluster whole for the next, and the last one resets it.
"""

import re
import shutil
import subprocess
import time
from pathlib import Path

import requests
import yaml

from swarm_testing import (INVENTORY, PROJECT, RUNNER, STACK, RequestLoop, archive_copies, changed, eventually, make_png,
                           node, playbook, replicas, serving, stack_archives, swarm_nodes, upload)

WORKERS = RUNNER.get_hosts("workers")


def image_of(via, service):
    return via.check_output(f"docker service inspect {STACK}_{service} --format '{{{{.Spec.TaskTemplate.ContainerSpec.Image}}}}'")


def test_three_managers_and_two_workers(manager):
    nodes = swarm_nodes(manager)
    assert {name: n["Spec"]["Role"] for name, n in nodes.items()} == {
        "node1": "manager", "node2": "manager", "node3": "manager", "node4": "worker", "node5": "worker"}
    assert {n["Status"]["State"] for n in nodes.values()} == {"ready"}


def test_nodes_without_a_share_got_a_copy_of_the_archive_and_none_is_left():
    archive = stack_archives()[-1]
    for name in RUNNER.get_hosts("all"):
        host = node(name)
        assert not host.file(str(archive)).exists, f"{name} shares the controller's archives (swarm_lab_shared_dirs)"
        assert not archive_copies(host), f"{name} still holds a copy of the archive"
        assert host.check_output("docker image ls --quiet gallery/app")


def test_quorum_guard_refuses_to_remove_a_manager(manager):
    result = playbook("remove-node.yml", "-e", "node=node3", "-e", "confirm=yes")
    assert result.returncode != 0
    assert "3 managers tolerate 1 failure, 2 managers tolerate 0 failures" in result.output
    node3 = swarm_nodes(manager)["node3"]
    assert node3["Spec"]["Role"] == "manager" and node3["Spec"]["Availability"] == "active"


def test_removal_is_refused_without_confirmation(manager):
    result = playbook("remove-node.yml", "-e", "node=node5")
    assert result.returncode != 0
    assert "Not confirmed: nothing was changed" in result.output
    assert swarm_nodes(manager)["node5"]["Spec"]["Availability"] == "active"


def test_swarm_survives_the_loss_of_its_leader(node_urls):
    leader = next(name for name, n in swarm_nodes(node("node1")).items()
                  if n.get("ManagerStatus", {}).get("Leader"))
    survivor = node(next(m for m in RUNNER.get_hosts("managers") if m != leader))
    node(leader).check_output("systemctl stop docker.socket docker.service")
    try:
        def scaled():
            """the remaining managers accept docker service scale"""
            return survivor.run(f"docker service scale --detach {STACK}_gallery=4").rc == 0
        eventually(scaled, timeout=90)
        eventually(lambda: replicas(survivor)[f"{STACK}_gallery"] == "4/4", timeout=120)
        others = [name for name in node_urls if name != leader]
        assert eventually(lambda: serving(node_urls, others), timeout=60)
    finally:
        node(leader).check_output("systemctl start docker.service")
    eventually(lambda: swarm_nodes(survivor)[leader]["ManagerStatus"]["Reachability"] == "reachable", timeout=120)
    survivor.check_output(f"docker service scale --detach {STACK}_gallery=3")


def test_rotating_tokens_leaves_every_node_in_place(manager):
    def tokens():
        return [manager.check_output(f"docker swarm join-token -q {kind}") for kind in ("worker", "manager")]

    before, nodes_before = tokens(), {name: n["ID"] for name, n in swarm_nodes(manager).items()}
    result = playbook("rotate-tokens.yml")
    assert result.returncode == 0, result.output
    after = tokens()
    assert all(old != new for old, new in zip(before, after))
    assert not any(token in result.output for token in before + after)
    nodes_after = swarm_nodes(manager)
    assert {name: n["ID"] for name, n in nodes_after.items()} == nodes_before
    assert {n["Status"]["State"] for n in nodes_after.values()} == {"ready"}


def test_remove_a_worker_and_site_yml_joins_it_again(manager, node_urls):
    result = playbook("remove-node.yml", "-e", "node=node5", "-e", "confirm=yes")
    assert result.returncode == 0, result.output
    assert "node5" not in swarm_nodes(manager)
    assert node("node5").check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "inactive"
    assert serving(node_urls, ["node1", "node2", "node3", "node4"])
    assert replicas(manager)[f"{STACK}_gallery"] == "3/3"
    # node5 is still in the inventory: the next run takes it back, as it would a new host.
    result = playbook("site.yml")
    assert result.returncode == 0, result.output
    assert [host for host, count in changed(result.output).items() if count] == ["node5"]
    node5 = swarm_nodes(manager)["node5"]
    assert node5["Spec"]["Role"] == "worker" and node5["Status"]["State"] == "ready"


def test_remove_an_unreachable_worker(manager):
    container = RUNNER.get_variables("node5")["ansible_host"]
    subprocess.run(["docker", "stop", container], check=True, capture_output=True)
    try:
        result = playbook("remove-node.yml", "-e", "node=node5", "-e", "confirm=yes")
        assert result.returncode == 0, result.output
        assert "node5" not in swarm_nodes(manager)
    finally:
        subprocess.run(["docker", "start", container], check=True, capture_output=True)
    eventually(lambda: node("node5").run("systemctl is-active docker").stdout.strip() == "active", timeout=120)
    result = playbook("site.yml")
    assert result.returncode == 0, result.output
    assert swarm_nodes(manager)["node5"]["Status"]["State"] == "ready"


def test_promote_and_demote_through_the_inventory(manager):
    inventory = yaml.safe_load(Path(INVENTORY).read_text())
    inventory["managers"]["hosts"]["node4"] = inventory["workers"]["hosts"].pop("node4")
    # Beside the original, so that its host_vars (the containers' names) apply.
    promoted = Path(INVENTORY).with_name("promoted.yml")
    promoted.write_text(yaml.safe_dump(inventory))
    try:
        result = playbook("site.yml", inventory=promoted)
    finally:
        promoted.unlink()
    assert result.returncode == 0, result.output
    assert "even number of managers (4)" in result.output
    assert swarm_nodes(manager)["node4"]["Spec"]["Role"] == "manager"

    result = playbook("site.yml")
    assert result.returncode == 0, result.output
    assert swarm_nodes(manager)["node4"]["Spec"]["Role"] == "worker"


def test_deploy_yml_scales_and_rolls_out_another_release(manager, node_urls, tmp_path):
    release = tmp_path / "app"
    shutil.copytree(PROJECT / "app", release, ignore=shutil.ignore_patterns("node_modules"))
    (release / "RELEASE").write_text("next\n")  # another build context: another image tag
    image_id = upload(node_urls["node1"], "release.png", make_png(8, 8, (200, 40, 40)))
    before = image_of(manager, "gallery")
    with RequestLoop("deploy.yml rolling out a release", node_urls.values(),
                     ["/", "/api/images", f"/images/{image_id}"]) as loop:
        result = playbook("deploy.yml", "-e", "gallery_replicas=4", "-e", f"gallery_app_context={release}")
    assert result.returncode == 0, result.output
    assert re.search(r"gallery: (update )?completed", result.output), result.output
    after = image_of(manager, "gallery")
    assert after != before
    assert replicas(manager)[f"{STACK}_gallery"] == "4/4"
    running = manager.check_output(
        f"docker service ps {STACK}_gallery --filter desired-state=running --format '{{{{.Image}}}}'").split()
    assert running == [after] * 4
    assert loop.failures == [], loop.failures[:10]
    assert loop.answered > 100

    result = playbook("deploy.yml")  # back to the inventory's state
    assert result.returncode == 0, result.output
    assert image_of(manager, "gallery") == before and replicas(manager)[f"{STACK}_gallery"] == "3/3"


def test_drills_drain_and_lose_a_worker_then_heal(manager, node_urls):
    result = playbook("drill.yml")
    assert result.returncode == 0, result.output
    assert "node5 drained. Tasks now run on:" in result.output
    assert "node5 left; the swarm lists it Down" in result.output
    nodes = swarm_nodes(manager)
    assert len(manager.check_output("docker node ls -q").split()) == 5  # no Down entry left behind
    assert nodes["node5"]["Status"]["State"] == "ready" and nodes["node5"]["Spec"]["Availability"] == "active"
    assert serving(node_urls, list(node_urls))


def engine_started(name):
    return int(node(name).check_output("systemctl show docker.service -p ExecMainStartTimestampMonotonic --value"))


def test_rolling_engine_upgrade_loses_no_request(manager, node_urls):
    image_id = upload(node_urls["node1"], "upgrade.png", make_png(8, 8, (40, 200, 40)))
    labels = {name: n["Spec"].get("Labels") or {} for name, n in swarm_nodes(manager).items()}
    before = {name: engine_started(name) for name in node_urls}
    with RequestLoop("upgrade.yml restarting every engine", node_urls.values(),
                     ["/", "/api/images", f"/images/{image_id}"]) as loop:
        result = playbook("upgrade.yml", "-e", "docker_engine_upgrade_force=true")
    assert result.returncode == 0, result.output
    after = {name: engine_started(name) for name in node_urls}
    assert all(after[name] > before[name] for name in node_urls)
    # One node at a time, managers first, in inventory order.
    assert sorted(after, key=after.get) == RUNNER.get_hosts("managers") + RUNNER.get_hosts("workers")
    assert loop.failures == [], loop.failures[:10]
    assert loop.answered > 200
    # Draining the storage node took the Redis primary away: reads came from a replica.
    assert loop.stores["replica"] > 0, loop.stores
    nodes = swarm_nodes(manager)
    assert {n["Spec"]["Availability"] for n in nodes.values()} == {"active"}
    # Each drain's label is gone again, and nothing else changed.
    assert {name: n["Spec"].get("Labels") or {} for name, n in nodes.items()} == labels

    result = playbook("upgrade.yml")  # nothing newer to install: nothing to do
    assert result.returncode == 0, result.output
    assert set(changed(result.output).values()) == {0}
    assert {name: engine_started(name) for name in node_urls} == after


def test_reset_leaves_no_swarm_on_any_node():
    result = playbook("reset.yml", "-e", "confirm=yes")
    assert result.returncode == 0, result.output
    for name in RUNNER.get_hosts("all"):
        assert node(name).check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "inactive"
