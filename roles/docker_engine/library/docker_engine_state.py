#!/usr/bin/python
"""Read, in one round trip, what docker_engine compares with what it is asked for."""

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_engine_state
short_description: Read a Debian host's engine packages, daemon configuration and docker unit
description:
  - Changes nothing. Each fact would otherwise take a task, and a task costs a round trip to every host even when
    it finds nothing to do.
options:
  packages:
    description: Package names to look up with dpkg-query.
    type: list
    elements: str
    default: []
  daemon_json:
    description: Path of the Docker daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  unit:
    description: systemd unit of the engine.
    type: str
    default: docker
"""

RETURN = r"""
installed: {description: The named packages dpkg lists as installed., type: list, returned: always}
daemon_json: {description: "exists, and when it does its checksum (SHA-1, as stat and copy give it) and mode.",
  type: dict, returned: always}
unit: {description: "enabled and active: whether systemctl says the unit is enabled and active; both null where
  systemd does not run the host.", type: dict, returned: always}
"""

import hashlib
import os
import shutil
import stat

from ansible.module_utils.basic import AnsibleModule


def installed(module, names):
    if not names:
        return []
    # dpkg-query exits 1 when one of the names is unknown to it, and lists the others.
    rc, out, err = module.run_command(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\n", *names])
    if rc > 1:
        module.fail_json(msg=f"dpkg-query failed: {err.strip()}", rc=rc)
    return sorted({line.split()[0] for line in out.splitlines() if line.endswith(" installed")})


def file_state(path):
    try:
        mode = os.stat(path).st_mode
        with open(path, "rb") as handle:
            checksum = hashlib.sha1(handle.read()).hexdigest()
    except FileNotFoundError:
        return {"exists": False}
    return {"exists": True, "checksum": checksum, "mode": f"{stat.S_IMODE(mode):04o}"}


def unit_state(module, unit):
    # sd_booted(): systemd runs the host. Without it, systemctl has no answer.
    systemctl = shutil.which("systemctl")
    if not systemctl or not os.path.isdir("/run/systemd/system"):
        return {"enabled": None, "active": None}
    # Both exit 0 for yes and non-zero for no (or for an unknown unit).
    enabled = module.run_command([systemctl, "is-enabled", "--quiet", unit])[0] == 0
    active = module.run_command([systemctl, "is-active", "--quiet", unit])[0] == 0
    return {"enabled": enabled, "active": active}


def main():
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "daemon_json": {"type": "path", "default": "/etc/docker/daemon.json"},
            "unit": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )
    module.exit_json(
        changed=False,
        installed=installed(module, module.params["packages"]),
        daemon_json=file_state(module.params["daemon_json"]),
        unit=unit_state(module, module.params["unit"]),
    )


if __name__ == "__main__":
    main()
