#!/usr/bin/python
"""Read, in one round trip to a manager, what the gallery role checks before deploying."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gallery_swarm_state
short_description: The swarm's nodes and their labels, a stack's overlay networks and whether a secret exists
description:
  - Three reads through the Docker API in one module run; as three tasks (C(docker_node_info), C(docker_host_info),
    C(docker secret ls)) they cost three round trips to the manager on every run, including one that changes nothing.
  - Changes nothing. Must run on a manager.
  - Reads the engine through the Docker SDK for Python.
options:
  stack:
    description: The stack whose networks (label C(com.docker.stack.namespace)) to read.
    type: str
    required: true
  secret:
    description: The name of the secret to look for (exactly that name).
    type: str
    required: true
  docker_host:
    description: The Docker API's Unix socket or URL, on the manager. E(DOCKER_HOST) when not given.
    type: str
    default: unix:///var/run/docker.sock
requirements:
  - The Docker SDK for Python (C(docker); the python3-docker package) on the manager.
"""

RETURN = r"""
nodes:
  description: Each node as C(hostname) (C(Description.Hostname)) and C(labels) (C(Spec.Labels), a dict).
  type: list
  returned: always
networks:
  description: The stack's networks, each as C(name) and C(encrypted) (whether the overlay encrypts its traffic).
  type: list
  returned: always
secret_exists:
  description: Whether the swarm holds a secret named O(secret).
  type: bool
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
# swarm's module_utils: the gallery role depends on swarm, which puts it on the search path.
from ansible.module_utils.swarm_docker_api import API_ERRORS, CONNECTION_OPTIONS, connect


def main():
    module = AnsibleModule(
        argument_spec={
            **CONNECTION_OPTIONS,
            "stack": {"type": "str", "required": True},
            "secret": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    client = connect(module, 60)
    try:
        nodes = client.nodes()
        networks = client.networks(filters={"label": f"com.docker.stack.namespace={params['stack']}"})
        # The API's name filter matches any name that contains it.
        secrets = client.secrets(filters={"name": params["secret"]})
    except API_ERRORS as exc:
        # A worker says so here: "This node is not a swarm manager."
        module.fail_json(msg=f"Reading the swarm's nodes, networks and secrets failed: {exc}")
    module.exit_json(
        changed=False,
        nodes=[{"hostname": node["Description"]["Hostname"], "labels": node["Spec"].get("Labels") or {}}
               for node in nodes],
        networks=[{"name": network["Name"], "encrypted": "encrypted" in (network.get("Options") or {})}
                  for network in sorted(networks, key=lambda n: n["Name"])],
        secret_exists=any(secret["Spec"]["Name"] == params["secret"] for secret in secrets),
    )


if __name__ == "__main__":
    main()
