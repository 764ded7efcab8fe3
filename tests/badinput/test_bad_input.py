"""Malformed inventories and variables: each run must stop before any change, saying what is wrong.

The hosts are either addresses nobody answers on (TEST-NET-1, 192.0.2.0/24) or this
machine reached with connection=local, where the checks only read. Every case asserts
the exit status, the message, and a PLAY RECAP without a single change. (A node name
that is in neither the inventory nor the swarm needs a real swarm to ask: the ssh
Molecule scenario checks remove-node.yml's refusal.)
"""

import json
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


def test_missing_inventory(tmp_path):
    hosts = tmp_path / "missing.yml"  # a mistyped path: Ansible warns, then goes on with no host
    assert_refused(*run("site.yml", hosts), rf"The inventory {hosts} does not exist \(a mistyped -i\?\)\. Nothing was changed\.")


def test_empty_inventory(tmp_path):
    hosts = tmp_path / "empty.yml"
    hosts.write_text("all: {}\n")
    assert_refused(*run("site.yml", hosts), r"managers: none; workers: none")


def test_lab_inventory_not_written_yet(tmp_path):
    """A fresh clone: ansible.cfg's inventory is the lab's directory, whose hosts.yml `make lab` writes."""
    lab = tmp_path / "inventories" / "lab"
    lab.mkdir(parents=True)
    assert_refused(*run("site.yml", lab), r"managers: none; workers: none; in both groups: none\. "
                                           r"The local lab's inventory \(its hosts\.yml\) is written by `make lab`\.")


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
    # Ports: any role's *_port, and a list item's port, in 1..65535; two that must differ.
    "port out of range": ("site.yml", "gallery_http_port=70000",
                          r"n1: gallery_http_port is 70000: it takes a port, 1 to 65535\. Nothing was changed\."),
    "port of a list item out of range": ("site.yml", '{"swarm_firewall_ports": [{"port": 0, "proto": "tcp"}]}',
                                         r"n1: swarm_firewall_ports\[0\]\.port is 0: it takes a port, 1 to 65535\. "
                                         r"Nothing was changed\."),
    "cluster port on the gossip port": ("site.yml", "docker_swarm_listen_port=7946",
                                        r"n1: docker_swarm_listen_port is 7946, the port of the gossip between the nodes: "
                                        r"it takes another port \(2377 by default\)\. Nothing was changed\."),
    # Addresses that are addresses.
    "advertise address an interface's name": ("site.yml", "docker_swarm_advertise_addr=eth0",
                                              r"n1: docker_swarm_advertise_addr is 'eth0': it takes the IPv4 address .* "
                                              r"goes in docker_swarm_advertise_interface\. Nothing was changed\."),
    "advertise address 0.0.0.0": ("site.yml", "docker_swarm_advertise_addr=0.0.0.0",
                                  r"n1: docker_swarm_advertise_addr is '0\.0\.0\.0': it takes the IPv4 address"),
    "firewall member a host name": ("site.yml", '{"swarm_firewall_enabled": true, "swarm_firewall_members": ["10.0.0.0/8", "node-1"]}',
                                    r'n1: swarm_firewall_members holds "node-1": it takes IP addresses and networks in CIDR form'
                                    r".* Nothing was changed\."),
    "address pool not a network": ("site.yml", '{"docker_swarm_default_addr_pool": ["10.20.0.0"]}',
                                   r"n1: docker_swarm_default_addr_pool holds '10\.20\.0\.0': it takes networks in CIDR form"
                                   r".* Nothing was changed\."),
    "subnet larger than its pool": ("site.yml", '{"docker_swarm_default_addr_pool": ["10.20.0.0/26"], "docker_swarm_subnet_size": 24}',
                                    r"docker_swarm_subnet_size is 24, but the pool 10\.20\.0\.0/26 is smaller than a /24"),
    # Timeouts and intervals above 0.
    "timeout of zero": ("site.yml", "preflight_port_timeout=0",
                        r"n1: preflight_port_timeout is 0: it takes a number of seconds above 0\. Nothing was changed\."),
    "timeout of zero for a day-2 playbook": ("remove-node.yml", '{"node": "n1", "swarm_drain_timeout": 0}',
                                             r"n1: swarm_drain_timeout is 0: it takes a number of seconds above 0\. "
                                             r"Nothing was changed\."),
    "negative timeout": ("site.yml", "swarm_drain_timeout=-5",
                         r"n1: swarm_drain_timeout is -5: it takes a number of seconds above 0\. Nothing was changed\."),
    "interval of zero": ("site.yml", "swarm_settle_interval=0",
                         r"n1: swarm_settle_interval is 0\.0: it takes a number of seconds above 0\."),
    "update monitor of zero": ("site.yml", "gallery_update_monitor=0s",
                               r"gallery_update_monitor is '0s': it takes a duration above zero.* Nothing was changed\."),
    # Counts: none negative, and 1 or more where the role needs one.
    "no gallery replica": ("site.yml", "gallery_replicas=0",
                           r"gallery_replicas is 0: it takes 1 or more .* Nothing was changed\."),
    "negative replica count": ("deploy.yml", "gallery_nginx_replicas=-2",
                               r"gallery_nginx_replicas is -2: it takes 1 or more"),
    "negative free space": ("site.yml", "preflight_min_free_gib=-1",
                            r"n1: preflight_min_free_gib is -1: it takes a number, 0 or more\. Nothing was changed\."),
    "subnet size beyond /29": ("site.yml", '{"docker_swarm_default_addr_pool": ["10.20.0.0/16"], "docker_swarm_subnet_size": 30}',
                               r"n1: docker_swarm_subnet_size is 30: it takes a prefix length of 29 or less"),
    # Names that exist.
    "deploying manager not a manager": ("site.yml", "gallery_manager=nosuch",
                                        r"gallery_manager is 'nosuch': it takes a host of the managers group \(n1\)"),
    # Backups.
    "no backup kept": ("backup.yml", '{"swarm_backup_dir": "/tmp", "swarm_backup_keep": 0}',
                       r"swarm_backup_keep is 0: it takes 1 or more\. Nothing was changed\."),
    "backup from a host that is no manager": ("backup.yml", '{"swarm_backup_dir": "/tmp", "swarm_backup_host": "w1"}',
                                              r"swarm_backup_host is 'w1': it takes a host of the managers group \(n1\)\. "
                                              r"Nothing was changed\."),
    "backup without a directory": ("backup.yml", "gallery_stack_name=gallery",
                                   r"Set swarm_backup_dir to the controller directory that keeps this swarm's backups"),
}


@pytest.mark.parametrize("playbook, variable, expected", BAD_EXTRA_VARIABLES.values(), ids=BAD_EXTRA_VARIABLES)
def test_bad_extra_variable(tmp_path, playbook, variable, expected):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE})
    assert_refused(*run(playbook, hosts, "-e", variable), expected)


def test_restore_redis_without_the_backup_it_names(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE})
    backups = tmp_path / "backups"
    assert_refused(*run("restore-redis.yml", hosts, "-e", f"swarm_backup_dir={backups}"),
                   rf"swarm_backup_dir={backups} is not a directory .* Nothing was changed\.")
    (backups / "20261207T101500Z").mkdir(parents=True)
    (backups / "20261207T101500Z" / "manifest.yml").write_text("host: n1\n")
    (backups / "20261207T111500Z").mkdir()  # no manifest: a backup that failed halfway
    assert_refused(*run("restore-redis.yml", hosts, "-e", f"swarm_backup_dir={backups}", "-e", "swarm_backup_name=20261207T111500Z"),
                   rf"{backups} holds no complete backup named 20261207T111500Z \(it holds 20261207T101500Z\)\. "
                   r"Nothing was changed\.")


def test_values_at_the_edge_of_what_is_allowed_pass_the_checks(tmp_path):
    """The checks refuse no legal value: the run goes on to contact the host, which nobody answers."""
    hosts = inventory(tmp_path, managers={"n1": NOWHERE})
    variables = {
        "gallery_http_port": 65535, "docker_swarm_listen_port": 1, "docker_swarm_advertise_addr": "10.0.0.5",
        # Host bits in a pool, as Docker takes them; a subnet size of 0 is Docker's 24.
        "docker_swarm_default_addr_pool": ["10.20.0.1/16"], "docker_swarm_subnet_size": 0,
        "swarm_firewall_enabled": True, "swarm_firewall_members": ["10.0.0.5", "10.1.0.0/16", "2001:db8::/32"],
        "preflight_min_free_gib": 0, "gallery_update_delay": "0s", "gallery_redis_read_replicas": 0,
        "swarm_settle_interval": 0.1, "gallery_manager": "n1",
    }
    returncode, output = run("site.yml", hosts, "-e", json.dumps(variables))
    assert_refused(returncode, output, r"Unreachable: n1 ")


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


def test_drill_given_a_node_that_is_no_worker(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE}, workers={"w1": {"ansible_host": "192.0.2.11"}})
    assert_refused(*run("drill.yml", hosts, "-e", "drill_node=nosuch"),
                   r"drill_node must be one of the workers \(w1\).* Nothing was changed\.")


def test_remove_node_of_the_only_manager(tmp_path):
    hosts = inventory(tmp_path, managers={"n1": NOWHERE}, workers={"w1": {"ansible_host": "192.0.2.11"}})
    assert_refused(*run("remove-node.yml", hosts, "-e", "node=n1", "-e", "confirm=yes"),
                   r"n1 is the inventory's only manager: no manager would be left")


@pytest.mark.skipif(Path("/proc/1/comm").read_text().strip() == "systemd",
                    reason="this machine's engine would be one the project installs")
def test_upgrade_refuses_an_engine_it_did_not_install(tmp_path):
    hosts = inventory(tmp_path, managers={"here": HERE})
    assert_refused(*run("upgrade.yml", hosts), r"here.s engine is not one this role installed")
