import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from role_files import load

# Ansible ships the role's module_utils inside the module it runs; here the module's
# import of ansible.module_utils.swarm_ports must find the role's file under that name.
swarm_ports = load("ansible.module_utils.swarm_ports", "preflight/module_utils/swarm_ports.py")
spc = load("swarm_port_check", "preflight/library/swarm_port_check.py")


def free_port():
    """A high port free for both TCP and UDP on every address (the listener binds both wildcards)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("0.0.0.0", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("0.0.0.0", port))
                except OSError:
                    continue
        return port


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


class Listener(threading.Thread):
    """listen() in a thread, as the async task runs it on a node."""

    def __init__(self, ports, peers, timeout=8.0, grace=0.2, name="node1"):
        super().__init__(daemon=True)
        self.args = (name, ports, peers, timeout)
        self.grace = grace
        self.result = None
        self.seconds = None

    def serving(self, tcp_port):
        """Start, and return once tcp_port, the last of the ports, accepts connections."""
        self.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", tcp_port), timeout=1).close()
                break
            except ConnectionRefusedError:
                time.sleep(0.01)
        return self

    def run(self):
        started = time.monotonic()
        self.result = spc.listen(*self.args, grace=self.grace)
        self.seconds = time.monotonic() - started


def targets(port, protos=("tcp", "udp"), address="127.0.0.1", name="node1"):
    return [{"name": name, "address": address, "port": port, "proto": proto} for proto in protos]


def test_two_probers_reach_one_listener_on_tcp_and_udp():
    port = free_port()
    ports = [{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}]
    listener = Listener(ports, ["node1", "node2", "node3"])
    listener.start()
    results = {}

    def prober(name):
        results[name] = spc.probe(name, targets(port), 5.0)

    probers = [threading.Thread(target=prober, args=(name,)) for name in ("node2", "node3")]
    for thread in probers:
        thread.start()
    for thread in probers:
        thread.join(10)
    listener.join(10)

    for name in ("node2", "node3"):
        assert [(r["proto"], r["ok"], r["answer"], r["error"]) for r in results[name]] == [
            ("tcp", True, "preflight", None),
            ("udp", True, "preflight", None),
        ]
    # The listener's own name in peers is not waited for.
    assert listener.result == {
        "heard": {f"{port}/tcp": ["node2", "node3"], f"{port}/udp": ["node2", "node3"]},
        "missing": {},
        "skipped": [],
    }


def test_listener_serves_probes_past_silent_and_foreign_clients():
    port = free_port()
    listener = Listener([{"port": port, "proto": "udp"}, {"port": port, "proto": "tcp"}], ["node2"]).serving(port)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as silent, socket.create_connection(("127.0.0.1", port), timeout=5) as foreign:
        foreign.sendall(b"GET / HTTP/1.0\r\n\r\n")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"\x08\x00\x00\x00", ("127.0.0.1", port))  # a VXLAN header
        results = spc.probe("node2", targets(port), 5.0)
        assert foreign.recv(100) == b""  # closed without an answer
        listener.join(10)
        assert silent.recv(100) == b""  # closed when the listener stopped
    assert [r["answer"] for r in results] == ["preflight", "preflight"]
    assert listener.result["heard"] == {f"{port}/tcp": ["node2"], f"{port}/udp": ["node2"]}


def test_listener_returns_once_every_peer_was_heard():
    port = free_port()
    listener = Listener([{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}], ["node2"], timeout=8.0)
    listener.start()
    assert all(r["ok"] for r in spc.probe("node2", targets(port), 5.0))
    listener.join(10)
    assert listener.seconds < 2.0
    assert listener.result["missing"] == {}


def test_listener_times_out_naming_the_peers_not_heard():
    port = free_port()
    listener = Listener([{"port": port, "proto": "udp"}], ["node2", "node3"], timeout=0.5)
    listener.start()
    assert spc.probe("node2", targets(port, ["udp"]), 2.0)[0]["ok"]
    listener.join(5)
    assert 0.45 < listener.seconds < 1.5
    assert listener.result["heard"] == {f"{port}/udp": ["node2"]}
    assert listener.result["missing"] == {f"{port}/udp": ["node3"]}


def test_probe_waits_for_a_listener_that_starts_later():
    port = free_port()
    listener = Listener([{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}], ["node2"])
    threading.Timer(0.3, listener.start).start()
    results = spc.probe("node2", targets(port), 5.0)
    listener.join(10)
    assert [r["answer"] for r in results] == ["preflight", "preflight"]
    assert all(r["seconds"] >= 0.25 for r in results)


def test_probe_to_closed_ports_fails_within_the_timeout():
    port = free_port()
    started = time.monotonic()
    results = spc.probe("node2", targets(port), 0.6)
    # Both targets ran in parallel.
    assert time.monotonic() - started < 1.2
    for result in results:
        assert result["ok"] is False
        assert result["answer"] is None
        assert result["error"]
        assert 0.55 <= result["seconds"] < 1.0
    assert results[0]["error"] == "connection refused"


def test_probe_of_an_unresolvable_name_fails_without_raising():
    (result,) = spc.probe("node2", targets(free_port(), ["tcp"], address="no-such-host.invalid"), 1.0)
    assert result["ok"] is False
    assert "cannot resolve" in result["error"]


def test_listener_skips_a_port_in_use():
    busy, free = free_port(), free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", busy))
        result = spc.listen("node1", [{"port": busy, "proto": "udp"}, {"port": free, "proto": "udp"}], ["node2"], 0.3)
    assert result["skipped"] == [{"port": busy, "proto": "udp"}]
    assert result["heard"] == {f"{free}/udp": []}
    assert result["missing"] == {f"{free}/udp": ["node2"]}


@pytest.mark.parametrize("accept", [False, True], ids=["silent", "closes"])
def test_a_tcp_port_owned_by_another_service_counts_as_reached(accept):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        if accept:
            # Like a TLS server that drops a client speaking something else.
            threading.Thread(target=lambda: server.accept()[0].close(), daemon=True).start()
        # The kernel completes the handshake even when the service never accepts.
        (result,) = spc.probe("node2", targets(port, ["tcp"]), 0.5)
    assert (result["ok"], result["answer"], result["error"]) == (True, "service", None)
    assert result["seconds"] < 1.0


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 on this host")
def test_listener_answers_over_ipv6():
    port = free_port()
    listener = Listener([{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}], ["node2"])
    listener.start()
    results = spc.probe("node2", targets(port, address="::1"), 5.0)
    listener.join(10)
    assert [r["answer"] for r in results] == ["preflight", "preflight"]


def test_no_thread_or_socket_is_left_behind():
    port = free_port()
    before = threading.active_count()
    spc.probe("node2", targets(port), 0.2)
    spc.listen("node1", [{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}], ["node2"], 0.2)
    assert threading.active_count() == before
    assert swarm_ports.ports_in_use([{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}]) == []


def test_module_runs_as_ansible_runs_it(run_module):
    port = free_port()
    ports = [{"port": port, "proto": "tcp"}, {"port": port, "proto": "udp"}]
    # The listener runs while the prober retries, as under async on the nodes.
    with ThreadPoolExecutor(2) as pool:
        listen = pool.submit(run_module, "preflight", "swarm_port_check",
                             mode="listen", name="node1", peers=["node2"], ports=ports, timeout=8)
        probe = pool.submit(run_module, "preflight", "swarm_port_check",
                            mode="probe", name="node2", targets=targets(port), timeout=5)
        probed, listened = probe.result(), listen.result()
    assert probed["changed"] is False
    assert [r["answer"] for r in probed["results"]] == ["preflight", "preflight"], probed
    assert listened["heard"] == {f"{port}/tcp": ["node2"], f"{port}/udp": ["node2"]}, listened


# Ansible's own checks (required_if) and the module's (port range) fail alike.
@pytest.mark.parametrize(
    "args, message",
    [
        ({"mode": "probe", "name": "node2"}, "targets"),
        ({"mode": "probe", "name": "node2", "targets": targets(70000, ["tcp"])}, "port 70000 is out of range 1-65535"),
    ],
)
def test_module_fails_on_bad_parameters(run_module, args, message):
    result = run_module("preflight", "swarm_port_check", **args)
    assert result["failed"] is True
    assert message in result["msg"]
