#!/usr/bin/python
"""Read, in one round trip, what the gallery role needs to know of each node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gallery_node_state
short_description: Whether a node's kernel has IPVS, and which of the stack's images its engine holds
description:
  - Each fact would otherwise take a task, and a task costs a round trip to every node even when it finds nothing to do.
  - Changes nothing, except that with O(load_ipvs) it loads the ip_vs kernel module when the kernel does not show IPVS
    yet (Docker loads it only once a service needs it, so a fresh VM would look like it has none). Where it cannot be
    loaded (containers, kernels built without it) that is not an error: RV(ipvs) is false.
options:
  load_ipvs:
    description: Run C(modprobe ip_vs) first when C(/proc/net/ip_vs) is absent.
    type: bool
    default: false
  images:
    description: Image references (C(name:tag)) to look for in the node's Docker engine, with the docker CLI.
    type: list
    elements: str
    default: []
"""

RETURN = r"""
ipvs: {description: Whether /proc/net/ip_vs exists (after loading ip_vs if asked)., type: bool, returned: always}
images: {description: The references of O(images) the engine holds., type: list, returned: always}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

IPVS = "/proc/net/ip_vs"


def ipvs(module, load):
    """Whether the kernel shows IPVS, and whether this call loaded it."""
    if os.path.exists(IPVS) or not load:
        return os.path.exists(IPVS), False
    modprobe = module.get_bin_path("modprobe")
    # Its failure shows as IPVS still absent; no modprobe (a container), likewise.
    if modprobe:
        module.run_command([modprobe, "ip_vs"])
    present = os.path.exists(IPVS)
    # Absent before: present now means this call loaded it.
    return present, present


def held(module, references):
    if not references:
        return []
    # One call for all: it prints the tags of each image found and names the others on stderr.
    rc, out, err = module.run_command(
        [module.get_bin_path("docker", required=True), "image", "inspect", "--format", "{{json .RepoTags}}",
         *references])
    unexpected = [line for line in err.splitlines() if line.strip() and "No such image" not in line]
    if rc != 0 and unexpected:
        module.fail_json(msg=f"docker image inspect failed: {' '.join(unexpected)}", rc=rc)
    tags = {tag for line in out.splitlines() if line.strip() for tag in json.loads(line) or []}
    # The engine lists a reference given without a tag as :latest.
    return [ref for ref in references
            if ref in tags or (":" not in ref.rsplit("/", 1)[-1] and f"{ref}:latest" in tags)]


def main():
    module = AnsibleModule(
        argument_spec={
            "load_ipvs": {"type": "bool", "default": False},
            "images": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    has_ipvs, loaded = ipvs(module, module.params["load_ipvs"] and not module.check_mode)
    module.exit_json(changed=loaded, ipvs=has_ipvs, images=held(module, module.params["images"]))


if __name__ == "__main__":
    main()
