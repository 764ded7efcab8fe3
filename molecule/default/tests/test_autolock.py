"""Autolock (docker_swarm_autolock: true): the manager's swarm data is locked at
rest, its unlock key is kept on the controller encrypted with the run's vault
secret, and site.yml unlocks a manager that restarted locked.

The failure messages never show the key: pytest would print the compared values.
"""

import os
import subprocess
import time
from pathlib import Path

from swarm_testing import INVENTORY, playbook

# swarm_unlock_key_file's default: a dot file in the inventory's directory.
KEY_FILE = Path(INVENTORY).parent / ".swarm-unlock-key.vault"


def swarm_state(manager):
    return manager.check_output("docker info --format '{{.Swarm.LocalNodeState}}'")


def unlock_key(manager):
    return manager.check_output("docker swarm unlock-key -q")


def test_autolock_is_on(manager):
    autolock = manager.check_output("docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'")
    assert autolock == "true"
    assert unlock_key(manager).startswith("SWMKEY-1-")


def test_unlock_key_is_stored_encrypted(manager):
    key = unlock_key(manager)
    text = KEY_FILE.read_text()
    assert text.startswith("$ANSIBLE_VAULT;")
    in_clear = key in text
    assert not in_clear, f"{KEY_FILE} holds the unlock key in clear"
    # ansible-vault finds the scenario's password in ANSIBLE_VAULT_PASSWORD_FILE.
    stored = subprocess.run(
        ["ansible-vault", "view", str(KEY_FILE)], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=True
    ).stdout.strip()
    same = stored == key
    assert same, f"{KEY_FILE} does not hold the swarm's current unlock key"


def test_unlock_key_absent_from_ansible_log(manager):
    log = Path(os.environ["ANSIBLE_LOG_PATH"]).read_text()
    # The log must hold the converge that stored the key, or this proves nothing.
    assert "Store the unlock key" in log
    printed = unlock_key(manager) in log
    assert not printed, "the unlock key is in the Ansible log"


def test_site_unlocks_a_restarted_manager(manager):
    key = unlock_key(manager)
    manager.run_expect([0], "systemctl restart docker")
    deadline = time.monotonic() + 60
    while swarm_state(manager) != "locked":
        assert time.monotonic() < deadline, "the restarted manager did not come back locked"
        time.sleep(2)

    result = playbook("site.yml")

    printed = key in result.output
    assert not printed, "site.yml printed the unlock key"
    assert result.returncode == 0, result.output[-3000:]
    assert swarm_state(manager) == "active"


def test_upgrade_unlocks_the_manager_it_restarts(manager):
    """upgrade.yml restarts each engine; the manager comes back locked and must be unlocked, not waited for."""
    key = unlock_key(manager)
    result = playbook("upgrade.yml", "-e", "docker_engine_upgrade_force=true", "--limit", "node1")

    printed = key in result.output
    assert not printed, "upgrade.yml printed the unlock key"
    assert result.returncode == 0, result.output[-3000:]
    assert "Unlock the locked managers with the stored key" in result.output
    assert swarm_state(manager) == "active"
    availability = manager.check_output("docker node inspect node1 --format '{{.Spec.Availability}}'")
    assert availability == "active"
