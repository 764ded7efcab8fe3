"""Backup and disaster recovery on three managers and one worker, in the order an operator meets them.

The tests share one cluster and change it: they run in file order. What the
swarm and the gallery hold when the backup is taken is kept in BEFORE, and
every recovery must bring it back.
"""

import json
import os
import stat
import tarfile
from pathlib import Path

import requests
import yaml

from swarm_testing import (RUNNER, STACK, RequestLoop, changed, eventually, make_png, node, playbook, replicas,
                           swarm_nodes, upload)

MANAGERS = RUNNER.get_hosts("managers")
BACKUPS = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "backups"
BEFORE = {}


def stop_engine(name):
    node(name).check_output("systemctl stop docker.socket docker.service")


def start_engine(name):
    node(name).check_output("systemctl start docker.service")


def swarm_state(via):
    """What a recovery must bring back: services (image, mode), secrets (by ID) and every node's labels."""
    services = {}
    for name in via.check_output("docker service ls --format '{{.Name}}'").split():
        spec = json.loads(via.check_output(f"docker service inspect {name}"))[0]["Spec"]
        services[name] = (spec["TaskTemplate"]["ContainerSpec"]["Image"], json.dumps(spec["Mode"], sort_keys=True))
    secrets = dict(line.split() for line in via.check_output("docker secret ls --format '{{.Name}} {{.ID}}'").splitlines())
    labels = {name: n["Spec"].get("Labels") or {} for name, n in swarm_nodes(via).items()}
    return {"services": services, "secrets": secrets, "labels": labels}


def images_served(url, images):
    return all(requests.get(f"{url}/images/{image_id}", timeout=5).content == data for image_id, data in images.items())


def cluster_whole(via):
    nodes = swarm_nodes(via)
    return (sorted(nodes) == ["node1", "node2", "node3", "node4"]
            and {n["Status"]["State"] for n in nodes.values()} == {"ready"}
            and {n["Spec"]["Availability"] for n in nodes.values()} == {"active"}
            and [n["ManagerStatus"]["Reachability"] for n in nodes.values() if "ManagerStatus" in n] == ["reachable"] * 3)


def test_backup_pauses_one_manager_and_keeps_the_swarm_and_the_data(manager, node_urls):
    manager.check_output("printf drill | docker secret create recovery-drill -")
    manager.check_output("docker node update --label-add drill=kept node4")
    BEFORE["images"] = {upload(node_urls["node1"], f"{n}.png", make_png(6, 6, (n * 60, 90, 200))): make_png(6, 6, (n * 60, 90, 200))
                        for n in range(1, 4)}
    BEFORE["state"] = swarm_state(manager)

    with RequestLoop("backup.yml pausing node3", node_urls.values(), ["/", "/api/images"],
                     unsteady=[node_urls["node3"]]) as loop:
        result = playbook("backup.yml", "-e", "swarm_backup_host=node3")
    assert result.returncode == 0, result.output
    assert loop.failures == [], loop.failures[:10]

    (backup,) = BACKUPS.iterdir()
    manifest = yaml.safe_load((backup / "manifest.yml").read_text())
    assert manifest["host"] == "node3"
    assert manifest["redis"]["keys"] == 4  # three images and their list
    assert stat.S_IMODE(BACKUPS.stat().st_mode) == stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in backup.iterdir()} == {
        "manifest.yml": 0o600, "swarm.tar.gz": 0o600, "redis.rdb": 0o600}
    assert (backup / "redis.rdb").read_bytes().startswith(b"REDIS")
    with tarfile.open(backup / "swarm.tar.gz") as archive:
        assert "swarm/raft" in archive.getnames()

    # node3 is back as it was: a Reachable manager, active, without the drain's label.
    assert eventually(lambda: cluster_whole(manager), timeout=60)
    assert swarm_state(manager) == BEFORE["state"]
    assert not node("node3").file("/var/tmp/swarm-backup.tar.gz").exists


def test_backup_keeps_swarm_backup_keep_backups():
    for _ in range(2):
        result = playbook("backup.yml")
        assert result.returncode == 0, result.output
    backups = sorted(BACKUPS.iterdir())
    assert len(backups) == 2  # swarm_backup_keep
    # The first manager leads; the first follower is taken.
    assert {yaml.safe_load((b / "manifest.yml").read_text())["host"] for b in backups} == {"node2"}


def test_restore_refuses_a_swarm_that_has_a_leader(manager):
    result = playbook("restore.yml", "-e", "confirm=yes")
    assert result.returncode != 0
    assert "The swarm is not lost" in result.text
    assert cluster_whole(manager)


def test_lost_quorum_is_recovered_from_the_surviving_manager(manager, node_urls):
    for name in ("node2", "node3"):
        stop_engine(name)
    try:
        scale = manager.run(f"docker service scale --detach {STACK}_gallery=4")
        assert scale.rc != 0 and "leader" in scale.stderr, scale.stderr

        refused = playbook("restore.yml")
        assert refused.returncode != 0 and "Not confirmed: nothing was changed" in refused.text

        result = playbook("restore.yml", "-e", "confirm=yes")
        assert result.returncode == 0, result.output
        assert "Force a new cluster on node1" in result.text
        assert manager.run(f"docker service scale --detach {STACK}_gallery=3").rc == 0
    finally:
        for name in ("node2", "node3"):
            start_engine(name)

    result = playbook("site.yml")
    assert result.returncode == 0, result.output
    assert eventually(lambda: cluster_whole(manager), timeout=60)
    assert swarm_state(manager) == BEFORE["state"]
    assert eventually(lambda: images_served(node_urls["node4"], BEFORE["images"]), timeout=60)

    again = playbook("site.yml")
    assert again.returncode == 0, again.output
    assert set(changed(again.output).values()) == {0}


def test_every_manager_lost_is_restored_from_the_newest_backup(node_urls):
    for name in MANAGERS:
        stop_engine(name)
        node(name).check_output("rm -rf /var/lib/docker/swarm")
        start_engine(name)
    newest = sorted(BACKUPS.iterdir())[-1].name

    result = playbook("restore.yml", "-e", "confirm=yes")
    assert result.returncode == 0, result.output
    assert f"Restore backup {newest}" in result.text and "on node2" in result.text

    result = playbook("site.yml")
    assert result.returncode == 0, result.output
    node2 = node("node2")
    assert eventually(lambda: cluster_whole(node2), timeout=60)
    # node1 and node3 joined again as new nodes: only node2 and node4 kept their own labels.
    state = swarm_state(node2)
    assert state["services"] == BEFORE["state"]["services"] and state["secrets"] == BEFORE["state"]["secrets"]
    assert state["labels"]["node4"] == {"storage": "true", "drill": "kept"} and state["labels"]["node2"] == {}
    assert eventually(lambda: images_served(node_urls["node1"], BEFORE["images"]), timeout=60)

    again = playbook("site.yml")
    assert again.returncode == 0, again.output
    assert set(changed(again.output).values()) == {0}


def test_redis_data_is_restored_from_the_backup(node_urls):
    after = upload(node_urls["node1"], "after.png", make_png(6, 6, (250, 250, 0)))

    refused = playbook("restore-redis.yml", "-e", "confirm=yes")
    assert refused.returncode != 0
    assert "holds 5 keys" in refused.text and "Nothing was changed" in refused.text

    result = playbook("restore-redis.yml", "-e", "confirm=yes", "-e", "gallery_redis_restore_force=true")
    assert result.returncode == 0, result.output
    assert "holds 4 keys" in result.text
    assert eventually(lambda: images_served(node_urls["node1"], BEFORE["images"]), timeout=60)
    assert requests.get(f"{node_urls['node1']}/images/{after}", timeout=5).status_code == 404
    assert replicas(node("node2"))[f"{STACK}_redis"] == "1/1"


def test_an_autolocked_swarm_is_refused_before_any_change(manager):
    """Docker cannot force a new cluster from an autolocked manager's state (moby/moby#36852)."""
    result = playbook("site.yml", "-e", "docker_swarm_autolock=true")
    assert result.returncode == 0, result.output
    backups = sorted(BACKUPS.iterdir())

    result = playbook("backup.yml")
    assert result.returncode != 0 and "Docker cannot restore an autolocked manager's state" in result.text
    assert sorted(BACKUPS.iterdir()) == backups

    for name in ("node2", "node3"):
        stop_engine(name)
    try:
        result = playbook("restore.yml", "-e", "confirm=yes")
        assert result.returncode != 0 and "Docker cannot force a new cluster" in result.text
        # node1 still holds the swarm, unchanged.
        assert manager.check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == "active"
    finally:
        for name in ("node2", "node3"):
            start_engine(name)
    # The managers come back locked; site.yml unlocks them with the stored key.
    result = playbook("site.yml", "-e", "docker_swarm_autolock=true")
    assert result.returncode == 0, result.output
    assert eventually(lambda: cluster_whole(manager), timeout=60)
