import importlib.util
import subprocess
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

# Action plugins are not on conftest's path: they import nothing by name.
PLUGIN = Path(__file__).resolve().parents[2] / "roles/swarm/action_plugins/swarm_unlock_key.py"
spec = importlib.util.spec_from_file_location("swarm_unlock_key", PLUGIN)
swarm_unlock_key = importlib.util.module_from_spec(spec)
spec.loader.exec_module(swarm_unlock_key)
store_key = swarm_unlock_key.store_key

KEY = "SWMKEY-1-Xk2bF0cQ9mTtZrVw8Jx3LpN4sD7hYu1aGe5oRi6Cq0"
SECRETS = [("default", VaultSecret(b"test-password"))]


def stored(path, secrets=SECRETS):
    return VaultLib(secrets).decrypt(path.read_bytes()).decode()


def run_action(args, secrets=SECRETS, check_mode=False):
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    task = MagicMock(args=args, check_mode=check_mode, async_val=0)
    action = swarm_unlock_key.ActionModule(task, MagicMock(), MagicMock(), loader, MagicMock())
    return action.run(task_vars={})


def test_stores_the_key_encrypted_and_owner_only(tmp_path):
    path = tmp_path / "key.vault"
    assert store_key(str(path), KEY, SECRETS) is True
    text = path.read_text()
    assert text.startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert KEY not in text
    assert stored(path) == KEY + "\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_same_key_leaves_the_file_alone(tmp_path):
    path = tmp_path / "key.vault"
    store_key(str(path), KEY, SECRETS)
    before = path.read_bytes()
    assert store_key(str(path), KEY, SECRETS) is False
    assert path.read_bytes() == before


def test_rotated_key_replaces_the_stored_one(tmp_path):
    path = tmp_path / "key.vault"
    store_key(str(path), KEY, SECRETS)
    assert store_key(str(path), KEY[:-1] + "1", SECRETS) is True
    assert stored(path) == KEY[:-1] + "1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["key.vault"]


def test_check_mode_reports_without_writing(tmp_path):
    path = tmp_path / "key.vault"
    assert store_key(str(path), KEY, SECRETS, check_mode=True) is True
    assert not path.exists()


def test_no_vault_secret_fails_saying_how_to_give_one(tmp_path):
    with pytest.raises(AnsibleError, match="--vault-password-file or the ANSIBLE_VAULT_PASSWORD_FILE"):
        store_key(str(tmp_path / "key.vault"), None, [])
    assert not (tmp_path / "key.vault").exists()


def test_check_without_key_writes_nothing(tmp_path):
    assert store_key(str(tmp_path / "key.vault"), None, SECRETS) is False
    assert list(tmp_path.iterdir()) == []


def test_encrypts_with_the_configured_vault_id(tmp_path, monkeypatch):
    monkeypatch.setattr(swarm_unlock_key.C, "DEFAULT_VAULT_ENCRYPT_IDENTITY", "swarm")
    secrets = [("other", VaultSecret(b"other")), ("swarm", VaultSecret(b"swarm-password"))]
    path = tmp_path / "key.vault"
    store_key(str(path), KEY, secrets)
    assert path.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;swarm\n")
    assert stored(path, [secrets[1]]) == KEY + "\n"


def test_file_from_another_vault_secret_is_not_overwritten(tmp_path):
    path = tmp_path / "key.vault"
    store_key(str(path), KEY, [("default", VaultSecret(b"someone-else"))])
    before = path.read_bytes()
    with pytest.raises(AnsibleError, match="does not decrypt with this run's vault secrets"):
        store_key(str(path), None, SECRETS)
    with pytest.raises(AnsibleError, match="does not decrypt"):
        store_key(str(path), KEY, SECRETS)
    assert path.read_bytes() == before


def test_clear_text_file_is_refused(tmp_path):
    path = tmp_path / "key.vault"
    path.write_text(KEY)
    with pytest.raises(AnsibleError, match="not vault-encrypted"):
        store_key(str(path), KEY, SECRETS)


def test_missing_directory_fails_before_anything(tmp_path):
    with pytest.raises(AnsibleError, match="does not exist or is not writable"):
        store_key(str(tmp_path / "missing" / "key.vault"), None, SECRETS)


def test_empty_key_fails(tmp_path):
    with pytest.raises(AnsibleError, match="no unlock key"):
        store_key(str(tmp_path / "key.vault"), "", SECRETS)


def test_action_uses_the_runs_vault_secrets_and_never_returns_the_key(tmp_path):
    path = tmp_path / "key.vault"
    result = run_action({"path": str(path), "key": KEY})
    assert result["changed"] is True
    assert KEY not in repr(result)
    assert stored(path) == KEY + "\n"
    assert run_action({"path": str(path), "key": KEY})["changed"] is False


def test_action_fails_without_vault_secret(tmp_path):
    result = run_action({"path": str(tmp_path / "key.vault")}, secrets=[])
    assert result["failed"] is True
    assert "--vault-id" in result["msg"]


def test_action_in_check_mode_writes_nothing(tmp_path):
    path = tmp_path / "key.vault"
    assert run_action({"path": str(path), "key": KEY}, check_mode=True)["changed"] is True
    assert not path.exists()


read_as_inventory = swarm_unlock_key.read_as_inventory


@pytest.mark.parametrize("relative, read", [
    ("swarm-unlock-key.vault", True),
    ("keys/swarm-unlock-key.vault", True),
    (".swarm-unlock-key.vault", False),
    (".keys/swarm-unlock-key.vault", False),
    ("group_vars/swarm-unlock-key.vault", False),
])
def test_a_key_file_ansible_would_read_as_inventory_is_named(tmp_path, relative, read):
    found = read_as_inventory(str(tmp_path / relative), [str(tmp_path)])
    assert found == (str(tmp_path) if read else None)


def test_a_key_file_outside_every_inventory_directory_passes(tmp_path):
    assert read_as_inventory(str(tmp_path / "key.vault"), [str(tmp_path / "inventory")]) is None


@pytest.mark.parametrize("name, listed", [("swarm-unlock-key.vault", True), (".swarm-unlock-key.vault", False)])
def test_ansible_inventory_reads_the_key_file_unless_it_is_a_dot_file(tmp_path, name, listed):
    """What the default name guards against, shown with Ansible itself."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text("managers:\n  hosts:\n    node1:\n")
    store_key(str(inventory / name), KEY, SECRETS)
    password = tmp_path / "password"
    password.write_text("test-password\n")
    result = subprocess.run(["ansible-inventory", "-i", str(inventory), "--list", "--vault-password-file",
                             str(password)], capture_output=True, text=True, check=True)
    assert (KEY in result.stdout) == listed
