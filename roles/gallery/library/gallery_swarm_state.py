#!/usr/bin/python
"""Read, in one round trip to a manager, what the gallery role checks before deploying."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gallery_swarm_state
short_description: The swarm's node labels, a stack's overlay networks and whether a secret exists
description:
  - Three reads through the Docker API in one module run; as three tasks (C(docker_node_info), C(docker_host_info),
    C(docker secret ls)) they cost three round trips to the manager on every run, including one that changes nothing.
  - Changes nothing. Must run on a manager.
  - Connects as the community.docker modules do (C(docker_host), C(tls), ... and their environment variables).
options:
  stack:
    description: The stack whose networks (label C(com.docker.stack.namespace)) to read.
    type: str
    required: true
  secret:
    description: The name of the secret to look for (exactly that name).
    type: str
    required: true
extends_documentation_fragment:
  - community.docker.docker.api_documentation
"""

RETURN = r"""
node_labels:
  description: Each node's labels (C(Spec.Labels)), one dict per node.
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

from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException
from ansible_collections.community.docker.plugins.module_utils._api.utils.utils import convert_filters
from ansible_collections.community.docker.plugins.module_utils.common_api import AnsibleDockerClient, RequestException


def main():
    client = AnsibleDockerClient(
        argument_spec={
            "stack": {"type": "str", "required": True},
            "secret": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    params = client.module.params

    def listed(endpoint, **filters):
        return client.get_json(endpoint, params={"filters": convert_filters(filters)} if filters else None)

    try:
        nodes = listed("/nodes")
        networks = listed("/networks", label=f"com.docker.stack.namespace={params['stack']}")
        # The API's name filter matches any name that contains it.
        secrets = listed("/secrets", name=params["secret"])
    except (DockerException, RequestException) as exc:
        # A worker says so here: "This node is not a swarm manager."
        client.fail(f"Reading the swarm's nodes, networks and secrets failed: {exc}")
    client.module.exit_json(
        changed=False,
        node_labels=[node["Spec"].get("Labels") or {} for node in nodes],
        networks=[{"name": network["Name"], "encrypted": "encrypted" in (network.get("Options") or {})}
                  for network in sorted(networks, key=lambda n: n["Name"])],
        secret_exists=any(secret["Spec"]["Name"] == params["secret"] for secret in secrets),
    )


if __name__ == "__main__":
    main()
