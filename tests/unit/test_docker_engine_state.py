"""docker_engine_state, run by Ansible on this machine: its dpkg and its files are real."""

import hashlib
import shutil

import pytest


@pytest.fixture
def run(run_module):
    return lambda **args: run_module("docker_engine", "docker_engine_state", **args)


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="dpkg is Debian's; the roles read it on Debian hosts only")
def test_installed_lists_the_named_packages_dpkg_has_and_skips_unknown_names(run):
    assert run(packages=["dpkg", "no-such-package-here"])["installed"] == ["dpkg"]


def test_daemon_json_carries_the_checksum_copy_compares(run, tmp_path):
    config = tmp_path / "daemon.json"
    assert run(daemon_json=str(config))["daemon_json"] == {"exists": False}
    config.write_text('{"log-driver": "json-file"}\n')
    config.chmod(0o644)
    found = run(daemon_json=str(config))
    assert found["daemon_json"] == {"exists": True, "mode": "0644",
                                    "checksum": hashlib.sha1(config.read_bytes()).hexdigest()}
    assert found["changed"] is False
