"""Port binding shared by the preflight modules: which Swarm ports are free on a node."""

import errno
import socket

# Both modules take ports in this shape.
PORT_OPTIONS = {
    "port": {"type": "int", "required": True},
    "proto": {"type": "str", "required": True, "choices": ["tcp", "udp"]},
}


def check_port_range(module, entries):
    """fail_json on the first entry whose port no socket can have; argument_spec cannot express a range."""
    for entry in entries:
        if not 1 <= entry["port"] <= 65535:
            module.fail_json(msg=f"port {entry['port']} is out of range 1-65535")


def bind(port, proto):
    """A socket bound to the port on every address: IPv6 and IPv4 in one socket when the host has IPv6.

    Raises OSError (EADDRINUSE when something owns the port).
    """
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    attempts = [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")]
    for family, address in attempts:
        try:
            sock = socket.socket(family, kind)
        except OSError:
            continue  # no IPv6 on this host
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            if proto == "tcp":
                # Sockets of a previous run still in TIME_WAIT must not block the port.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            if proto == "tcp":
                sock.listen(64)
            return sock
        except OSError:
            sock.close()
            # Something may own [::]:port alone while the IPv4 wildcard is free.
            if family == socket.AF_INET:
                raise
    raise OSError(errno.EAFNOSUPPORT, "no usable address family")


def unique(ports):
    """ports ({port, proto}) without repeats, in order, with the port an int."""
    seen = []
    for entry in ports:
        item = {"port": int(entry["port"]), "proto": entry["proto"]}
        if item not in seen:
            seen.append(item)
    return seen


def ports_in_use(ports):
    """The entries of ports ({port, proto}) that cannot be bound on the wildcard address right now."""
    in_use = []
    for entry in unique(ports):
        try:
            bind(entry["port"], entry["proto"]).close()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            in_use.append(entry)
    return in_use
