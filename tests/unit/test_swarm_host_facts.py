"""swarm_host_facts, run by Ansible on this machine: the ports it binds and the facts it reads are real."""

import socket

import pytest


@pytest.fixture
def run(run_module):
    return lambda **args: run_module("preflight", "swarm_host_facts", **args)


def test_in_use_reports_the_ports_held_and_only_those(run):
    tcp, udp = socket.socket(socket.AF_INET, socket.SOCK_STREAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with tcp, udp, socket.socket(socket.AF_INET, socket.SOCK_STREAM) as released:
        # On one address only: the module binds the wildcard, which that still blocks.
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("0.0.0.0", 0))
        released.bind(("0.0.0.0", 0))
        held = [{"port": tcp.getsockname()[1], "proto": "tcp"}, {"port": udp.getsockname()[1], "proto": "udp"}]
        free = {"port": released.getsockname()[1], "proto": "tcp"}
        released.close()
        found = run(ports=[held[0], free, held[1], held[0]])
    assert found["in_use"] == held


def test_no_ports_asked_none_in_use(run):
    found = run()
    assert (found["changed"], found["in_use"]) == (False, [])


def test_out_of_range_port_fails(run):
    found = run(ports=[{"port": 70000, "proto": "udp"}])
    assert found["failed"] is True
    assert "port 70000 is out of range 1-65535" in found["msg"]


def test_facts_are_setups_under_setups_names(run, run_module):
    ours = run()["ansible_facts"]
    setup = run_module("preflight", "setup", gather_subset=["network"])["ansible_facts"]
    read = ["distribution", "distribution_version", "distribution_major_version", "distribution_release", "os_family",
            "service_mgr", "hostname", "architecture", "system", "default_ipv4", "default_ipv6", "all_ipv4_addresses", "user_id", "user_uid"]
    for name in read:
        assert ours.get(f"ansible_{name}") == setup.get(f"ansible_{name}"), name
    assert ours["ansible_python"]["executable"] == setup["ansible_python"]["executable"]
    assert ours["ansible_service_mgr"]
    assert sorted(ours["ansible_interfaces"]) == sorted(setup["ansible_interfaces"])
    # Nothing setup does not give, and each interface's own entry (ansible_facts['eth0']) is there.
    assert set(ours) <= set(setup)
    devices = {key for key, value in setup.items() if isinstance(value, dict) and "device" in value}
    assert devices and devices <= set(ours)


def test_engine_read_is_docker_host_infos(run, run_module):
    """docker_swarm takes this read for its own docker_host_info read (site.yml), so it must be the same."""
    ours = run()["docker"]
    theirs = run_module("preflight", "community.docker.docker_host_info", networks=True)
    for field in ("ID", "Name", "Swarm", "ServerVersion", "DockerRootDir"):
        assert ours["host_info"][field] == theirs["host_info"][field], field
    assert sorted(ours["networks"], key=lambda n: n["Id"]) == sorted(theirs["networks"], key=lambda n: n["Id"])
    assert {"bridge", "host", "none"} <= {network["Name"] for network in ours["networks"]}
