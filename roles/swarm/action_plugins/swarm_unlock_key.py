"""Keep the swarm's unlock key on the controller, encrypted with the run's vault secret."""

import os
import tempfile

from ansible import constants as C
from ansible import context
from ansible.errors import AnsibleError
from ansible.parsing.vault import VaultLib, is_encrypted, match_encrypt_secret
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
name: swarm_unlock_key
short_description: Store the swarm unlock key in a vault-encrypted file on the controller
description:
  - Runs on the controller only. Encrypts with the vault secret of the run
    (C(--vault-id), C(--vault-password-file), C(ANSIBLE_VAULT_PASSWORD_FILE)),
    the one C(ansible-vault encrypt) would pick, and writes the file only when
    it does not hold O(key) already.
  - Without O(key), only checks that a key could be stored at O(path) and
    read back: a vault secret is given, the file (when present) decrypts with
    it, and its directory is writable. Fails otherwise, saying what to do.
  - The key is never returned. Give the task C(no_log).
options:
  path:
    description: The vault file.
    type: path
    required: true
  key:
    description: The unlock key to store.
    type: str
"""

NO_SECRET = (
    "No vault secret in this run to encrypt the swarm unlock key with "
    "({path}). Give one with --vault-id, --vault-password-file or the "
    "ANSIBLE_VAULT_PASSWORD_FILE environment variable, or set "
    "docker_swarm_autolock to false."
)


def inventory_directories():
    """The directories among the run's inventory sources (-i, else the configured ones)."""
    for source in context.CLIARGS.get("inventory") or C.DEFAULT_HOST_LIST or ():
        for item in source.split(","):
            directory = os.path.abspath(os.path.expanduser(item.strip()))
            if item.strip() and os.path.isdir(directory):
                yield directory


def read_as_inventory(path, directories):
    """The inventory directory that would read path as an inventory source, if any.

    Ansible reads every file under an inventory directory, except dot files
    and dot directories, and the group_vars and host_vars directories.
    """
    for directory in directories:
        if os.path.commonpath([path, directory]) != directory:
            continue
        parts = os.path.relpath(path, directory).split(os.sep)
        if not any(part.startswith(".") or part in ("group_vars", "host_vars") for part in parts):
            return directory
    return None


def encryption_secret(secrets, path):
    """The (vault ID, secret) ansible-vault would encrypt with; fails without one."""
    if not secrets:
        raise AnsibleError(NO_SECRET.format(path=path))
    return match_encrypt_secret(secrets, encrypt_vault_id=C.DEFAULT_VAULT_ENCRYPT_IDENTITY)


def read_key(path, vault):
    """The key stored at path, or None when there is no file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    if not is_encrypted(data):
        raise AnsibleError(f"{path} is not vault-encrypted: remove it, the run stores the key again.")
    try:
        return vault.decrypt(data).decode().strip()
    except AnsibleError as error:
        raise AnsibleError(
            f"{path} does not decrypt with this run's vault secrets ({error.message}): give the secret it "
            "was encrypted with, or remove the file and the run stores the key again."
        ) from None


def write_key(path, key, vault, vault_id, secret):
    """Replace path by the encrypted key, atomically, readable by its owner only."""
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".swarm-unlock-key.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(vault.encrypt(f"{key}\n", secret, vault_id))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def store_key(path, key, secrets, check_mode=False):
    """Check (key None) or store the key at path; returns whether the file changes."""
    directory = read_as_inventory(path, inventory_directories())
    if directory:
        raise AnsibleError(
            f"{path} is inside the inventory directory {directory}, where Ansible would read the decrypted "
            "key as an inventory host: set swarm_unlock_key_file to a dot file (the default is "
            "'{{ inventory_dir }}/.swarm-unlock-key.vault') or to a path outside it."
        )
    vault_id, secret = encryption_secret(secrets, path)
    vault = VaultLib(secrets)
    stored = read_key(path, vault)
    if not os.access(os.path.dirname(path), os.W_OK):
        raise AnsibleError(
            f"{path}: its directory does not exist or is not writable; set swarm_unlock_key_file."
        )
    if key is None:
        return False
    if not key:
        raise AnsibleError("The swarm returned no unlock key to store: is autolock on?")
    if stored == key:
        return False
    if not check_mode:
        write_key(path, key, vault, vault_id, secret)
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(
            argument_spec={"path": {"type": "path", "required": True}, "key": {"type": "str", "no_log": True}}
        )
        path = os.path.abspath(args["path"])
        try:
            changed = store_key(path, args["key"], self._loader._vault.secrets, self._task.check_mode)
        except AnsibleError as error:
            return {**result, "failed": True, "msg": error.message}
        return {**result, "changed": changed, "path": path}
