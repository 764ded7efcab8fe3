"""docker_engine's reading of dpkg-query (packages.yml, vars/main.yml): which packages count as installed, and
which source an installed engine makes the role keep, evaluated by ansible-playbook on this machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def read(tmp_path, lines, source="distro"):
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [str(ROOT / "roles" / "docker_engine" / "vars" / "main.yml")],
        "vars": {"docker_engine_source": source, "docker_engine_dpkg": {"stdout_lines": lines}},
        "tasks": [{"name": "Show", "ansible.builtin.debug": {
            "msg": "{{ {'installed': docker_engine_installed, 'source': docker_engine_host_source} }}"}}],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(tmp_path / "play.yml")], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]


# dpkg-query --show '--showformat=${Package} ${db:Status-Status}\n', as on a Debian 13 host.
DISTRO = ["docker-ce not-installed", "docker-ce-cli not-installed", "docker-cli installed", "docker.io installed",
          "python3-docker installed", "python3-jsondiff installed", "python3-yaml installed"]
# Removed but not purged: its configuration files are still there.
DOCKER_CE = ["docker-ce installed", "docker-ce-cli installed", "docker-cli not-installed",
             "docker.io config-files", "python3-yaml installed"]
FRESH = ["docker-ce not-installed", "docker.io not-installed", "python3-yaml installed"]


@pytest.mark.parametrize("lines, setting, installed, source", [
    (DISTRO, "docker-ce", ["docker-cli", "docker.io", "python3-docker", "python3-jsondiff", "python3-yaml"], "distro"),
    (DOCKER_CE, "distro", ["docker-ce", "docker-ce-cli", "python3-yaml"], "docker-ce"),
    (FRESH, "docker-ce", ["python3-yaml"], "docker-ce"),
    (FRESH, "distro", ["python3-yaml"], "distro"),
])
def test_an_installed_engine_is_kept_and_a_fresh_host_gets_the_setting(tmp_path, lines, setting, installed, source):
    assert read(tmp_path, lines, setting) == {"installed": installed, "source": source}
