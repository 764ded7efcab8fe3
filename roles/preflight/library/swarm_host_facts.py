#!/usr/bin/python
"""Read what preflight needs to know about a host and no Ansible module reads: kernel features, free space where
Docker keeps its data, a Docker API served over TCP without TLS, and the Swarm ports already held."""

DOCUMENTATION = r"""
module: swarm_host_facts
short_description: Read the kernel features, disk space, exposed Docker API and held ports a swarm node depends on
description:
  - Changes nothing. C(ansible.builtin.setup) gives the system facts and C(community.docker.docker_host_info) the
    engine's; this module reads, in the same round trip, the rest of what preflight checks.
  - Kernel features are C(loaded) (in the running kernel), C(loadable) (a module file for the
    running kernel exists), C(absent) (the module tree is there and has no such module) or C(unknown) (no module
    tree for the running kernel, as in containers, where the host kernel may still load it on demand).
options:
  docker_root:
    description: Directory Docker keeps its data in; free space is read on it or its nearest existing parent.
    type: path
    default: /var/lib/docker
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
- name: Read the kernel features, disk space, exposed Docker API and held Swarm ports
  swarm_host_facts:
    ports:
      - {port: 2377, proto: tcp}
      - {port: 7946, proto: tcp}
      - {port: 7946, proto: udp}
      - {port: 4789, proto: udp}
  register: preflight_host
"""

RETURN = r"""
in_use:
  description: The entries of O(ports) that cannot be bound on the wildcard address (address already in use), for
    instance because dockerd or the kernel's VXLAN device owns them.
  type: list
  elements: dict
  returned: always
  sample: [{port: 2377, proto: tcp}]
features: {description: "overlay, vxlan and ip_vs: loaded, loadable, absent or unknown.", type: dict, returned: always}
disk: {description: "path measured and free_bytes.", type: dict, returned: always}
tcp_without_tls:
  description: The TCP addresses a running dockerd listens on without --tlsverify.
  type: list
  elements: str
  returned: always
  sample: [tcp://0.0.0.0:2375]
"""

import json
import os
import platform

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.swarm_ports import PORT_OPTIONS, check_port_range, ports_in_use

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
    """Before Docker is installed its root does not exist: the filesystem it will be on is its nearest parent's."""
    while not os.path.exists(path):
        path = os.path.dirname(path) or "/"
    stats = os.statvfs(path)
    return {"path": path, "free_bytes": stats.f_bavail * stats.f_frsize}


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


def main():
    module = AnsibleModule(
        argument_spec={
            "docker_root": {"type": "path", "default": "/var/lib/docker"},
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
    modules_dir = os.path.join("/lib/modules", platform.release())
    module.exit_json(
        changed=False,
        in_use=in_use,
        features={name: module_state(check(), names, modules_dir) for name, (check, names) in FEATURES.items()},
        disk=free_space(params["docker_root"]),
        tcp_without_tls=tcp_without_tls(),
    )


if __name__ == "__main__":
    main()
