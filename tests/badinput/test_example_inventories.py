"""The example inventories the README points at pass the controller-side checks as they stand."""

import os
import re
import subprocess

import pytest

from test_bad_input import PROJECT, run


@pytest.mark.parametrize("name", ["production", "pwd-gateway"])
def test_an_example_inventory_passes_the_inventory_check(name):
    returncode, output = run("playbooks/inventory-check.yml", PROJECT / "inventories" / name)
    assert returncode == 0, output[-2000:]


def test_pwd_gateway_hosts_are_one_gateway_and_a_user_each():
    """debug runs on the controller: it shows the SSH destination without connecting."""
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")}
    result = subprocess.run(
        ["ansible", "-i", str(PROJECT / "inventories" / "pwd-gateway"), "swarm", "-m", "ansible.builtin.debug",
         "-a", '{"msg": "{{ ansible_user }}@{{ ansible_host }} {{ docker_swarm_advertise_interface }}"}'],
        capture_output=True, text=True, env=env, cwd=PROJECT, check=True)
    destinations = dict(re.findall(r"^(\w+) \| SUCCESS =>\s+msg: (.*)$", result.stdout, re.M))
    assert destinations == {
        "node1": "ip192-168-0-13-cs1example0session0id@direct.labs.play-with-docker.com eth0",
        "node2": "ip192-168-0-12-cs1example0session0id@direct.labs.play-with-docker.com eth0",
        "node3": "ip192-168-0-11-cs1example0session0id@direct.labs.play-with-docker.com eth0",
    }
