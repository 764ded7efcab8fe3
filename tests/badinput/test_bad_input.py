"""Malformed inventories and variables: each run must stop before any change, saying what is wrong.

The hosts are either addresses nobody answers on (TEST-NET-1, 192.0.2.0/24) or this
machine reached with connection=local, where the checks only read. Every case asserts
the exit status, the message, and a PLAY RECAP without a single change.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
# A host nobody answers on: the run must never get as far as connecting to it.
NOWHERE = {"ansible_host": "192.0.2.10", "ansible_ssh_common_args": "-o ConnectTimeout=3"}
# This machine, where the preflight checks read facts and change nothing.
HERE = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


def inventory(tmp_path, managers=None, workers=None, extra_groups=None):
    groups = {}
    if managers is not None:
        groups["managers"] = {"hosts": managers}
    if workers is not None:
        groups["workers"] = {"hosts": workers}
    groups.update(extra_groups or {})
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"children": groups}}))
    return path


def run(playbook, inventory_path, *args):
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")}
    result = subprocess.run(
        ["ansible-playbook", "-i", str(inventory_path), str(PROJECT / playbook), *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, cwd=PROJECT, check=False, timeout=300,
    )
    output = result.stdout + result.stderr
    return result.returncode, re.sub(r"\s+", " ", output)


def assert_refused(returncode, output, *expected):
    assert returncode != 0, output[-2000:]
    for pattern in expected:
        assert re.search(pattern, output), f"{pattern!r} not in: {output[-3000:]}"
    recap = re.findall(r"(\S+)\s*: ok=\d+ changed=(\d+)", output.split("PLAY RECAP")[-1])
    assert all(changed == "0" for _, changed in recap), recap


def test_no_managers_group(tmp_path):
    hosts = inventory(tmp_path, workers={"w1": NOWHERE})
    assert_refused(*run("site.yml", hosts), r"with at least one manager\. managers: none; workers: w1")


def test_empty_inventory(tmp_path):
    hosts = tmp_path / "missing.yml"  # a mistyped path: Ansible falls back to an empty inventory
    assert_refused(*run("site.yml", hosts), r"managers: none; workers: none")


def test_host_in_both_groups(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE}, workers={"n1": NOWHERE})
    assert_refused(*run("site.yml", hosts), r"in both groups: n1\.")


def test_two_hosts_at_one_address(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE}, workers={"n2": NOWHERE})
    assert_refused(*run("site.yml", hosts), r"n1 and n2 are both 192\.0\.2\.10")


def test_misspelt_host_variable(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": {**NOWHERE, "docker_swarm_advertize_addr": "10.0.0.1"}})
    assert_refused(*run("site.yml", hosts),
                   r"docker_swarm_advertize_addr \(set for n1\) is not a variable of any role "
                   r"\(did you mean docker_swarm_advertise_addr\?\)")


# One manager nobody answers on, and one bad extra variable: refused on the controller.
BAD_EXTRA_VARIABLES = {
    "misspelt": ("deploy.yml", "gallery_replica=5",
                 r"gallery_replica \(set for n1\) is not a variable of any role \(did you mean gallery_replicas\?\)"),
    "replicas not a number": ("site.yml", "gallery_replicas=many", r"gallery_replicas.*int"),
    "engine source not a choice": ("site.yml", "docker_engine_source=snap",
                                   r"docker_engine_source must be one of: distro, docker-ce"),
    "read replicas neither auto nor a number": ("site.yml", "gallery_redis_read_replicas=two",
                                                r"gallery_redis_read_replicas is 'two': it takes auto"),
    "registry delivery without an image": ("site.yml", "gallery_image_delivery=registry",
                                           r"gallery_images\.app is empty"),
    "duration without a unit": ("site.yml", "gallery_healthcheck_interval=5",
                                r"gallery_healthcheck_interval is '5': it takes a duration"),
}


@pytest.mark.parametrize("playbook, variable, expected", BAD_EXTRA_VARIABLES.values(), ids=BAD_EXTRA_VARIABLES)
def test_bad_extra_variable(tmp_path, playbook, variable, expected):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE})
    assert_refused(*run(playbook, hosts, "-e", variable), expected)


def test_unreachable_host_stops_every_host(tmp_path):
    hosts = inventory(tmp_path, managers={"here": HERE}, workers={"away": NOWHERE})
    returncode, output = run("site.yml", hosts)
    assert_refused(returncode, output, r"Unreachable: away \(.*\)\. Nothing was changed on any host",
                   r"--limit '!away'")
    # The reachable host went no further than the preflight checks.
    assert "Install Docker Engine" not in output


def test_host_without_python(tmp_path):
    hosts = inventory(tmp_path, managers={"here": {**HERE, "ansible_python_interpreter": "/nonexistent/python3"}})
    assert_refused(*run("site.yml", hosts), r"here has no Python 3\.8 or newer")


def test_two_hosts_with_one_hostname(tmp_path):
    hosts = inventory(tmp_path, managers={"one": HERE}, workers={"two": HERE})
    assert_refused(*run("site.yml", hosts), r"one and two share the hostname")


def test_disk_too_small_for_docker(tmp_path):
    hosts = inventory(tmp_path, managers={"here": HERE})
    assert_refused(*run("site.yml", hosts, "-e", "preflight_min_free_gib=1000000"),
                   r"here has [0-9.]+ GB free on \S+, where Docker keeps its data")


def test_docker_api_on_tcp_without_tls(tmp_path):
    hosts = inventory(tmp_path, managers={"here": HERE})
    daemon = '{"docker_engine_daemon_json": {"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]}}'
    assert_refused(*run("site.yml", hosts, "-e", daemon),
                   r"here: the Docker API would listen on tcp://0\.0\.0\.0:2375 without TLS")


def test_every_problem_of_a_host_is_named_in_one_run(tmp_path):
    hosts = inventory(tmp_path, managers={"here": HERE})
    variables = '{"preflight_min_free_gib": 1000000, "preflight_supported_architectures": ["s390x"]}'
    assert_refused(*run("site.yml", hosts, "-e", variables),
                   r"here is \S+; supported: s390x\. here has [0-9.]+ GB free on \S+, where Docker keeps its data")


def test_remove_node_without_a_node(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE})
    assert_refused(*run("remove-node.yml", hosts), r"Name the one node to remove: -e node=NAME")


def test_remove_node_given_a_group_or_a_pattern(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE}, workers={"w1": {"ansible_host": "192.0.2.11"}})
    assert_refused(*run("remove-node.yml", hosts, "-e", "node=workers"), r"or its ID \(workers is a group\)\. Nothing was changed")
    assert_refused(*run("remove-node.yml", hosts, "-e", "node=w*"), r"Name the one node to remove")


def test_remove_node_of_the_only_manager(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE}, workers={"w1": {"ansible_host": "192.0.2.11"}})
    assert_refused(*run("remove-node.yml", hosts, "-e", "node=n1", "-e", "confirm=yes"),
                   r"n1 is the inventory's only manager: no manager would be left")


@pytest.mark.skipif(Path("/proc/1/comm").read_text().strip() == "systemd",
                    reason="this machine's engine would be one the project installs")
def test_upgrade_refuses_an_engine_it_did_not_install(tmp_path):
    hosts = inventory(tmp_path, managers={"here": HERE})
    assert_refused(*run("upgrade.yml", hosts), r"here.s engine is not one this role installed")
