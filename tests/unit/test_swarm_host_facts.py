"""swarm_host_facts: its readings from files it is given, and the module run by Ansible on this machine,
where the ports it binds are real."""

import json
import os
import socket

import pytest
from role_files import load

# The module's import of ansible.module_utils.swarm_ports must find the role's file under that name.
load("ansible.module_utils.swarm_ports", "preflight/module_utils/swarm_ports.py")
shf = load("swarm_host_facts", "preflight/library/swarm_host_facts.py")


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
    assert set(found["features"]) == {"overlay", "vxlan", "ip_vs"}
    assert set(found["features"].values()) <= {"loaded", "loadable", "absent", "unknown"}
    assert isinstance(found["tcp_without_tls"], list)


def test_out_of_range_port_fails(run):
    found = run(ports=[{"port": 70000, "proto": "udp"}])
    assert found["failed"] is True
    assert "port 70000 is out of range 1-65535" in found["msg"]


def test_a_feature_is_loadable_when_the_module_tree_has_it(tmp_path):
    (tmp_path / "modules.dep").write_text("kernel/drivers/net/vxlan/vxlan.ko.xz: kernel/net/ipv4/udp_tunnel.ko.xz\n")
    (tmp_path / "modules.builtin").write_text("kernel/fs/overlayfs/overlay.ko\n")
    assert shf.module_state(True, ["ip_vs"], str(tmp_path / "missing")) == "loaded"
    assert shf.module_state(False, ["vxlan"], str(tmp_path)) == "loadable"
    assert shf.module_state(False, ["overlay"], str(tmp_path)) == "loadable"
    assert shf.module_state(False, ["ip_vs"], str(tmp_path)) == "absent"
    # A container has no module tree of the running kernel: the host may still load the module.
    assert shf.module_state(False, ["ip_vs"], str(tmp_path / "missing")) == "unknown"


def test_free_space_of_a_root_not_created_yet_is_its_nearest_parents(tmp_path):
    stats = os.statvfs(tmp_path)
    found = shf.free_space(str(tmp_path / "docker" / "data"))
    assert found["path"] == str(tmp_path)
    # Other processes write meanwhile: the same filesystem, not the same byte.
    assert abs(found["free_bytes"] - stats.f_bavail * stats.f_frsize) < 1 << 30


@pytest.mark.parametrize(("argv", "config", "exposed"), [
    (["dockerd", "-H", "fd://", "-H", "tcp://0.0.0.0:2375"], {}, ["tcp://0.0.0.0:2375"]),
    (["/usr/bin/dockerd", "--host=tcp://10.0.0.1:2375", "-Htcp://[::]:2376"], {}, ["tcp://10.0.0.1:2375", "tcp://[::]:2376"]),
    (["dockerd", "-H", "tcp://0.0.0.0:2376", "--tlsverify"], {}, []),
    (["dockerd"], {"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]}, ["tcp://0.0.0.0:2375"]),
    (["dockerd"], {"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": True}, []),
    (["containerd", "-H", "tcp://0.0.0.0:2375"], {}, []),
])
def test_tcp_without_tls_reads_dockerds_command_line_and_daemon_json(monkeypatch, argv, config, exposed):
    files = {"/proc/42/cmdline": "\0".join(argv) + "\0", "/etc/docker/daemon.json": json.dumps(config)}
    monkeypatch.setattr(shf.os, "listdir", lambda path: ["42", "self"] if path == "/proc" else [])
    monkeypatch.setattr(shf, "_read", lambda path: files.get(path, ""))
    assert shf.tcp_without_tls() == exposed
