"""docker_engine_state, run by Ansible on this machine: its dpkg and its files are real."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The ansible of the environment running the tests.
ANSIBLE = str(Path(sys.executable).parent / "ansible")


def run(**args):
    env = {**os.environ, "ANSIBLE_LIBRARY": str(ROOT / "roles" / "docker_engine" / "library"),
           "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    result = subprocess.run([ANSIBLE, "localhost", "-m", "docker_engine_state", "-a", json.dumps(args)],
                            capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="dpkg is Debian's; the roles read it on Debian hosts only")
def test_installed_lists_the_named_packages_dpkg_has_and_skips_unknown_names():
    assert run(packages=["dpkg", "no-such-package-here"])["installed"] == ["dpkg"]


def test_daemon_json_carries_the_checksum_copy_compares(tmp_path):
    config = tmp_path / "daemon.json"
    assert run(daemon_json=str(config))["daemon_json"] == {"exists": False}
    config.write_text('{"log-driver": "json-file"}\n')
    config.chmod(0o644)
    found = run(daemon_json=str(config))
    assert found["daemon_json"] == {"exists": True, "mode": "0644",
                                    "checksum": hashlib.sha1(config.read_bytes()).hexdigest()}
    assert found["changed"] is False
