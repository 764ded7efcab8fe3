#!/usr/bin/python
"""Prove that swarm nodes reach each other on the Swarm ports, before the swarm exists."""

DOCUMENTATION = r"""
---
module: swarm_port_check
short_description: Check the Docker Swarm ports between nodes before the swarm is formed
description:
  - Two modes that together prove, from the nodes themselves, that every node reaches its peers on the ports Docker Swarm needs.
  - The ports already held on a node (by dockerd, or the kernel's VXLAN device) are found by C(swarm_host_facts) with
    its O(ports) option; C(listen) skips them.
  - C(listen) binds every free port of O(ports) and answers probes until every name of O(peers) was heard on every bound port,
    or until O(timeout). Run it with C(async) and C(poll=0) so that the probes can run meanwhile.
  - C(probe) sends one probe to each of O(targets), in parallel, retrying until O(timeout) so that a listener started a moment
    later is still found.
  - A TCP port that accepts the connection but does not answer like a listener of this module (a running dockerd owns it)
    still counts as reachable, with RV(results[].answer=service). A UDP port gives no such proof.
  - Pure Python standard library on the target (Python 3.8 or newer); IPv4 and IPv6 addresses.
  - The module never changes anything and never fails because a target is unreachable; assert on RV(results[].ok).
version_added: "1.0.0"
author: gallery project
options:
  mode:
    description: What to do.
    type: str
    required: true
    choices: [listen, probe]
  ports:
    description:
      - C(listen) only. Ports to serve.
      - Defaults to the Swarm ports 2377/tcp, 7946/tcp, 7946/udp and 4789/udp.
    type: list
    elements: dict
    suboptions:
      port: &port
        description: Port number.
        type: int
        required: true
      proto: &proto
        description: Transport protocol.
        type: str
        required: true
        choices: [tcp, udp]
  name:
    description:
      - This node's name, sent in probes and in answers. Required by C(listen) and C(probe).
      - Probers must use the names the listeners expect in O(peers).
    type: str
  peers:
    description:
      - C(listen) only. Names of the nodes expected to probe this one; the listener returns as soon as each of them was
        heard on every bound port. O(name) itself is ignored in this list, so the whole group may be passed.
    type: list
    elements: str
    default: []
  targets:
    description: C(probe) only. What to probe.
    type: list
    elements: dict
    suboptions:
      name:
        description: The target node's name, copied to the result.
        type: str
        required: true
      address:
        description: IPv4 or IPv6 address, or host name, to probe.
        type: str
        required: true
      port: *port
      proto: *proto
  timeout:
    description:
      - Seconds. C(listen) serves this long at most (default 20); C(probe) gives each target this long (default 10).
    type: float
notes:
  - Under C(async), choose an C(async) value above the listener's O(timeout).
  - A listener keeps answering for one more second after the last expected probe, so that a prober whose UDP answer was
    lost still gets one on its next attempt.
"""

EXAMPLES = r"""
- name: Listen on the free Swarm ports until every peer has probed them
  swarm_port_check:
    mode: listen
    name: "{{ inventory_hostname }}"
    peers: "{{ ansible_play_hosts }}"
    timeout: 20
  async: 40
  poll: 0
  register: preflight_listener

- name: Probe every peer on every Swarm port
  swarm_port_check:
    mode: probe
    name: "{{ inventory_hostname }}"
    targets:
      - {name: node2, address: 192.0.2.12, port: 2377, proto: tcp}
      - {name: node2, address: 192.0.2.12, port: 4789, proto: udp}
    timeout: 10
  register: preflight_probe
"""

RETURN = r"""
heard:
  description: C(listen) only. For each bound port, the names heard on it, sorted.
  returned: mode is listen
  type: dict
  sample: {"2377/tcp": [node2, node3], "4789/udp": [node2, node3]}
missing:
  description: C(listen) only. For each bound port, the names of O(peers) not heard on it before the timeout.
  returned: mode is listen
  type: dict
  sample: {"4789/udp": [node3]}
skipped:
  description: C(listen) only. Ports not served because they were already in use.
  returned: mode is listen
  type: list
  elements: dict
  sample: [{port: 4789, proto: udp}]
results:
  description: C(probe) only. One entry per target, in the order of O(targets).
  returned: mode is probe
  type: list
  elements: dict
  contains:
    name:
      description: The target's name.
      type: str
    address:
      description: The address probed.
      type: str
    port:
      description: The port probed.
      type: int
    proto:
      description: The protocol probed.
      type: str
    ok:
      description: Whether the target was reached.
      type: bool
    answer:
      description:
        - C(preflight) when a listener of this module answered, C(service) when a TCP connection was accepted by something
          else (a running dockerd), null when not reached.
      type: str
    error:
      description: Why the target was not reached, null when it was.
      type: str
    seconds:
      description: Time spent on this target.
      type: float
  sample:
    - {name: node2, address: 192.0.2.12, port: 7946, proto: udp, ok: true, answer: preflight, error: null, seconds: 0.004}
"""

import errno
import selectors
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.swarm_ports import PORT_OPTIONS, bind, check_port_range, unique

SWARM_PORTS = [
    {"port": 2377, "proto": "tcp"},
    {"port": 7946, "proto": "tcp"},
    {"port": 7946, "proto": "udp"},
    {"port": 4789, "proto": "udp"},
]
GREETING = "swarm-preflight"
ANSWER = "ok"
# A probe line or datagram is a short name; anything longer is not ours.
MAX_MESSAGE = 512
# How often a probe is retried, and how long a listener keeps answering after
# the last expected probe: one lost UDP answer must not fail the check.
RETRY = 0.3
GRACE = 1.0
# A peer that connects but says nothing must not hold a listener's slot.
CONNECTION_TIMEOUT = 5.0
# An accepted TCP connection answers at once when our listener owns the port;
# a real service may keep silent, so do not wait for it long.
ANSWER_WAIT = 2.0


def _key(port, proto):
    return f"{port}/{proto}"


def _parse(data, word):
    """The name in "<word> <name>", or None when data is something else."""
    text = data.decode("utf-8", "replace").strip()
    head, _, name = text.partition(" ")
    name = name.strip()
    if head != word or not name or len(name) > 255:
        return None
    return name


class _Listener:
    """Serves probes on bound sockets from a single thread, with one selector."""

    def __init__(self, name, bound):
        self.reply = f"{ANSWER} {name}".encode()
        self.heard = {key: set() for key in bound}
        self.selector = selectors.DefaultSelector()
        self.connections = {}  # accepted socket -> [port key, buffer, accepted at]
        for key, (sock, proto) in bound.items():
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, (proto, key))

    def serve(self, until):
        """Handle what arrives before the monotonic time until."""
        remaining = until - time.monotonic()
        for handle, _ in self.selector.select(max(remaining, 0)):
            kind, key = handle.data
            if kind == "tcp":
                self._accept(handle.fileobj, key)
            elif kind == "udp":
                self._datagrams(handle.fileobj, key)
            else:
                self._read(handle.fileobj)
        self._expire()

    def _accept(self, server, key):
        while True:
            try:
                conn, _ = server.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # a connection reset before it was accepted
            conn.setblocking(False)
            self.connections[conn] = [key, b"", time.monotonic()]
            self.selector.register(conn, selectors.EVENT_READ, ("conn", key))

    def _read(self, conn):
        state = self.connections[conn]
        try:
            data = conn.recv(MAX_MESSAGE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        state[1] += data
        if data and b"\n" not in state[1] and len(state[1]) < MAX_MESSAGE:
            return
        name = _parse(state[1].split(b"\n", 1)[0], GREETING) if b"\n" in state[1] else None
        if name is not None:
            self.heard[state[0]].add(name)
            try:
                conn.send(self.reply + b"\n")
            except OSError:
                pass  # the prober is gone; it heard nothing and will say so
        self._close(conn)

    def _datagrams(self, sock, key):
        while True:
            try:
                data, source = sock.recvfrom(MAX_MESSAGE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error queued by an earlier answer; data waiting wakes the selector again
            name = _parse(data, GREETING)
            if name is None:
                continue
            self.heard[key].add(name)
            try:
                sock.sendto(self.reply, source)
            except OSError:
                pass

    def _expire(self):
        limit = time.monotonic() - CONNECTION_TIMEOUT
        for conn in [c for c, state in self.connections.items() if state[2] < limit]:
            self._close(conn)

    def _close(self, conn):
        self.selector.unregister(conn)
        del self.connections[conn]
        conn.close()

    def close(self):
        for conn in list(self.connections):
            self._close(conn)
        self.selector.close()


def listen(name, ports, peers, timeout, grace=GRACE):
    """Serve probes on every free port until each peer was heard on each bound port, or timeout seconds.

    Returns {"heard": {"port/proto": [names]}, "missing": {"port/proto": [names]}, "skipped": [{port, proto}]}.
    """
    expected = set(peers) - {name}
    deadline = time.monotonic() + timeout
    bound, skipped = {}, []
    try:
        for entry in unique(ports):
            try:
                sock = bind(entry["port"], entry["proto"])
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                skipped.append(entry)
                continue
            bound[_key(entry["port"], entry["proto"])] = (sock, entry["proto"])
        listener = _Listener(name, bound)
        try:
            complete, finish = False, deadline
            while True:
                now = time.monotonic()
                if not complete and all(expected <= heard for heard in listener.heard.values()):
                    complete = True
                    finish = min(deadline, now + grace) if expected and bound else now
                if now >= finish:
                    break
                # Wake up now and then to drop connections that say nothing.
                listener.serve(min(finish, now + 0.5))
        finally:
            listener.close()
    finally:
        for sock, _ in bound.values():
            sock.close()
    heard = listener.heard
    return {
        "heard": {key: sorted(names) for key, names in heard.items()},
        "missing": {key: sorted(expected - names) for key, names in heard.items() if expected - names},
        "skipped": skipped,
    }


def _describe(exc):
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return exc.strerror or str(exc)


def _probe_tcp(own, sockaddr, family, deadline):
    """(answer, error) for one TCP target."""
    error = "timed out"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, error
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(remaining)
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                # Refused: the listener may not run yet. Timed out or
                # unreachable: a host still coming up. Both may heal.
                error = _describe(exc)
                time.sleep(max(min(RETRY, deadline - time.monotonic()), 0))
                continue
            # Whoever accepted the connection proves the path; only the
            # answer tells our listener from a real service.
            sock.settimeout(min(ANSWER_WAIT, max(deadline - time.monotonic(), 0.5)))
            data = b""
            try:
                sock.sendall(f"{GREETING} {own}\n".encode())
                while b"\n" not in data and len(data) < MAX_MESSAGE:
                    chunk = sock.recv(MAX_MESSAGE)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            name = _parse(data.split(b"\n", 1)[0], ANSWER) if b"\n" in data else None
            return ("preflight" if name is not None else "service"), None
        finally:
            sock.close()


def _probe_udp(own, sockaddr, family, deadline):
    """(answer, error) for one UDP target."""
    error = "no answer (dropped on the way, or nothing listening)"
    sock = socket.socket(family, socket.SOCK_DGRAM)
    # Not connected: a multi-homed peer may answer from another of its
    # addresses, and the answer's text is what proves it is ours.
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, error
            resend = time.monotonic() + min(RETRY, remaining)
            try:
                sock.sendto(f"{GREETING} {own}".encode(), sockaddr)
            except OSError as exc:
                error = _describe(exc)  # no route yet: an interface still coming up
            while True:
                wait = resend - time.monotonic()
                if wait <= 0:
                    break
                sock.settimeout(wait)
                try:
                    data, _ = sock.recvfrom(MAX_MESSAGE)
                except OSError:
                    break  # timed out: send again
                if _parse(data, ANSWER) is not None:
                    return "preflight", None
    finally:
        sock.close()


def _probe_one(own, target, timeout):
    started = time.monotonic()
    deadline = started + timeout
    proto = target["proto"]
    result = {
        "name": target["name"],
        "address": target["address"],
        "port": int(target["port"]),
        "proto": proto,
        "ok": False,
        "answer": None,
        "error": None,
    }
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(target["address"], result["port"], type=kind)[0]
    except (OSError, UnicodeError) as exc:
        result["error"] = f"cannot resolve {target['address']}: {exc}"
    else:
        probe = _probe_tcp if proto == "tcp" else _probe_udp
        try:
            result["answer"], result["error"] = probe(own, sockaddr, family, deadline)
        except OSError as exc:
            # No socket of that family here (an IPv6 target from an IPv4-only host).
            result["error"] = _describe(exc)
        result["ok"] = result["answer"] is not None
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def probe(name, targets, timeout):
    """Probe every target ({name, address, port, proto}) in parallel; one result per target, in order."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(len(targets), 256)) as pool:
        return list(pool.map(lambda target: _probe_one(name, target, timeout), targets))


def main():
    target_options = dict(PORT_OPTIONS, name={"type": "str", "required": True}, address={"type": "str", "required": True})
    module = AnsibleModule(
        argument_spec={
            "mode": {"type": "str", "required": True, "choices": ["listen", "probe"]},
            "ports": {"type": "list", "elements": "dict", "options": PORT_OPTIONS},
            "name": {"type": "str"},
            "peers": {"type": "list", "elements": "str", "default": []},
            "targets": {"type": "list", "elements": "dict", "options": target_options},
            "timeout": {"type": "float"},
        },
        required_if=[("mode", "listen", ["name"]), ("mode", "probe", ["name", "targets"])],
        supports_check_mode=True,
    )
    params = module.params
    mode = params["mode"]
    ports = params["ports"] if params["ports"] is not None else SWARM_PORTS
    check_port_range(module, ports + (params["targets"] or []))
    timeout = params["timeout"] if params["timeout"] is not None else (20.0 if mode == "listen" else 10.0)
    if timeout <= 0:
        module.fail_json(msg="timeout must be positive")
    try:
        if mode == "listen":
            module.exit_json(changed=False, **listen(params["name"], ports, params["peers"], timeout))
        else:
            module.exit_json(changed=False, results=probe(params["name"], params["targets"], timeout))
    except OSError as exc:
        module.fail_json(msg=f"cannot bind a port: {exc}")


if __name__ == "__main__":
    main()
