#!/usr/bin/python
"""Read, in one round trip, what preflight needs to know about a host: the facts setup would gather for it,
the Swarm ports already held, its kernel features, disk space, clock and Docker engine."""

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_host_facts
short_description: Read the facts, held ports, kernel, disk, clock and Docker engine a swarm node depends on
description:
  - Changes nothing. One call replaces C(ansible.builtin.setup) with C(gather_subset=network) and a check of the Swarm
    ports, so that preflight costs a host one round trip.
  - Sets the facts of Ansible's own collectors C(distribution), C(platform), C(python), C(service_mgr), C(user) and
    C(network), under the names C(ansible.builtin.setup) gives them; the other facts of setup's minimal subset are not
    gathered.
  - Kernel features are C(loaded) (in the running kernel), C(loadable) (a module file for the
    running kernel exists), C(absent) (the module tree is there and has no such module) or C(unknown) (no module
    tree for the running kernel, as in containers, where the host kernel may still load it on demand).
options:
  docker_root:
    description: Directory Docker keeps its data in; free space is read on it or its nearest existing parent.
    type: path
    default: /var/lib/docker
  docker_socket:
    description: Unix socket of the Docker engine, asked for its version, info and networks when it answers.
    type: path
    default: /var/run/docker.sock
  ports:
    description:
      - Ports to find held, returned in RV(in_use).
    type: list
    elements: dict
    default: []
    suboptions:
      port:
        description: Port number.
        type: int
        required: true
      proto:
        description: Transport protocol.
        type: str
        required: true
        choices: [tcp, udp]
"""

EXAMPLES = r"""
- name: Gather the facts and find the Swarm ports already held
  swarm_host_facts:
    ports:
      - {port: 2377, proto: tcp}
      - {port: 7946, proto: tcp}
      - {port: 7946, proto: udp}
      - {port: 4789, proto: udp}
  register: preflight_host
"""

RETURN = r"""
ansible_facts:
  description: "What ansible.builtin.setup gives for the subsets distribution, platform, python, service_mgr, user and
    network (distribution, distribution_major_version, os_family, architecture, hostname, python.executable, service_mgr,
    user_id, user_uid, default_ipv4, interfaces and one entry an interface...), and gather_subset and module_setup as setup sets them."
  type: dict
  returned: always
in_use:
  description: The entries of O(ports) that cannot be bound on the wildcard address (address already in use), for
    instance because dockerd or the kernel's VXLAN device owns them.
  type: list
  elements: dict
  returned: always
  sample: [{port: 2377, proto: tcp}]
kernel: {description: Running kernel release., type: str, returned: always}
features: {description: "overlay, vxlan and ip_vs: loaded, loadable, absent or unknown.", type: dict, returned: always}
disk: {description: "path measured and free_bytes.", type: dict, returned: always}
time: {description: Seconds since the epoch when the module ran., type: float, returned: always}
docker: {description: "version and swarm_state of a running engine (empty when none answers), host_info and networks
  as community.docker.docker_host_info returns them (with networks=true), and tcp_without_tls: the TCP addresses a
  running dockerd listens on without --tlsverify.", type: dict, returned: always}
"""

import http.client
import json
import os
import platform
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts import ansible_collector, default_collectors
from ansible.module_utils.facts.namespace import PrefixFactNamespace
from ansible.module_utils.swarm_ports import PORT_OPTIONS, check_port_range, ports_in_use

# The setup subsets the roles read, named one by one: the rest of setup's minimal
# subset (env, date_time, dns, lsb, selinux...) is not read and would cost time.
FACT_SUBSETS = ["!all", "distribution", "platform", "python", "service_mgr", "user", "network"]

# Where each feature shows once it is in the running kernel, and its module names.
FEATURES = {
    "overlay": (lambda: "\toverlay\n" in _read("/proc/filesystems"), ["overlay"]),
    "vxlan": (lambda: os.path.isdir("/sys/module/vxlan"), ["vxlan"]),
    "ip_vs": (lambda: os.path.exists("/proc/net/ip_vs"), ["ip_vs"]),
}


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def module_state(loaded, names, modules_dir):
    if loaded:
        return "loaded"
    if not os.path.isdir(modules_dir):
        return "unknown"
    index = _read(os.path.join(modules_dir, "modules.dep")) + _read(os.path.join(modules_dir, "modules.builtin"))
    for line in index.splitlines():
        base = os.path.basename(line.split(":", 1)[0])
        if base.split(".ko", 1)[0].replace("-", "_") in names:
            return "loadable"
    return "absent"


def free_space(path):
    while not os.path.exists(path):
        path = os.path.dirname(path) or "/"
    stats = os.statvfs(path)
    return {"path": path, "free_bytes": stats.f_bavail * stats.f_frsize}


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


# The fields community.docker.docker_host_info gives of each network without verbose_output.
NETWORK_FIELDS = ("Id", "Name", "Driver", "Scope")


def engine(path):
    """Version, swarm state, info and networks from the engine API, or {} when no engine answers."""
    try:
        connection = _UnixConnection(path, timeout=5)
        answers = {}
        for name in ("info", "version", "networks"):
            connection.request("GET", f"/{name}")
            answers[name] = json.loads(connection.getresponse().read())
        connection.close()
    except (OSError, ValueError, http.client.HTTPException):
        return {}
    info = answers["info"]
    return {
        "version": answers["version"].get("Version", ""),
        "swarm_state": info.get("Swarm", {}).get("LocalNodeState", ""),
        # As docker_host_info returns them, so that a later reader can take this read for its own.
        "host_info": info,
        "networks": [{field: network.get(field) for field in NETWORK_FIELDS} for network in answers["networks"]],
    }


def tcp_without_tls():
    """TCP addresses of running dockerd processes started without --tlsverify, from their command lines."""
    try:
        config = json.loads(_read("/etc/docker/daemon.json") or "{}")
    except ValueError:
        config = {}
    exposed = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        argv = _read(f"/proc/{pid}/cmdline").split("\0")
        if os.path.basename(argv[0]) != "dockerd":
            continue
        hosts = list(config.get("hosts", []))
        for index, arg in enumerate(argv):
            if arg in ("-H", "--host") and index + 1 < len(argv):
                hosts.append(argv[index + 1])
            elif arg.startswith(("-H=", "--host=")):
                hosts.append(arg.split("=", 1)[1])
            elif arg.startswith("-Htcp"):
                hosts.append(arg[2:])
        verified = "--tlsverify" in argv or any(a.startswith("--tlsverify=true") for a in argv) or config.get("tlsverify")
        if not verified:
            exposed.extend(h for h in hosts if h.startswith("tcp://"))
    return sorted(set(exposed))


def setup_facts(module, attempts=3):
    """The facts of FACT_SUBSETS, collected and named as ansible.builtin.setup does.

    Ansible's network collector reads each interface's /sys files after
    listing them, and drops every network fact when one vanished in between
    (a veth Docker removes while it leaves a swarm or stops a task: the very
    moment a run that mends a node starts). Collecting again gets them.
    """
    collector = ansible_collector.get_ansible_collector(
        all_collector_classes=default_collectors.collectors,
        namespace=PrefixFactNamespace(namespace_name="ansible", prefix="ansible_"),
        gather_subset=FACT_SUBSETS,
        gather_timeout=10,  # setup's default, so that the facts come as setup would give them
    )
    for attempt in range(1, attempts + 1):
        facts = collector.collect(module=module)
        if "ansible_interfaces" in facts or attempt == attempts:
            return facts
        time.sleep(0.2 * attempt)


def gather(docker_root, docker_socket):
    release = platform.release()
    modules_dir = os.path.join("/lib/modules", release)
    features = {name: module_state(check(), names, modules_dir) for name, (check, names) in FEATURES.items()}
    docker = engine(docker_socket)
    docker["tcp_without_tls"] = tcp_without_tls()
    return {"kernel": release, "features": features, "disk": free_space(docker_root), "time": time.time(), "docker": docker}


def main():
    module = AnsibleModule(
        argument_spec={
            "docker_root": {"type": "path", "default": "/var/lib/docker"},
            "docker_socket": {"type": "path", "default": "/var/run/docker.sock"},
            "ports": {"type": "list", "elements": "dict", "options": PORT_OPTIONS, "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    check_port_range(module, params["ports"])
    try:
        in_use = ports_in_use(params["ports"])
    except OSError as exc:
        module.fail_json(msg=f"cannot bind a port: {exc}")
    found = gather(params["docker_root"], params["docker_socket"])
    module.exit_json(changed=False, ansible_facts=setup_facts(module), in_use=in_use, **found)


if __name__ == "__main__":
    main()
