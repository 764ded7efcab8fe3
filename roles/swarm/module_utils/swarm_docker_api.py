"""How this project's modules reach the Docker API: the Docker SDK for Python (python3-docker on the nodes).

They run on a manager and read its own engine, so the one connection option is the socket (or URL) of that
engine. Only the SDK's long-stable public calls are used (docker.APIClient and its listing methods), which the
SDK 5 of Debian 12 and the SDK 7 of Debian 13 share; no collection's private code. The roles whose modules
import it (swarm_settle, gallery) list swarm in their meta dependencies, which puts it on the search path.
"""

from __future__ import annotations

import sys

from ansible.module_utils.basic import env_fallback

try:
    import docker
    from docker.errors import DockerException
    from requests.exceptions import RequestException
except ImportError as exc:
    IMPORT_ERROR = exc
    API_ERRORS = ()
else:
    IMPORT_ERROR = None
    # What a call through the client raises: the daemon's refusals and the transport's errors.
    API_ERRORS = (DockerException, RequestException)

CONNECTION_OPTIONS = {
    "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock", "fallback": (env_fallback, ["DOCKER_HOST"])},
}


def connect(module, timeout):
    """A docker.APIClient for the module's docker_host, each request limited to timeout seconds."""
    if IMPORT_ERROR is not None:
        module.fail_json(msg=f"The Docker SDK for Python (the python3-docker package) does not import in "
                             f"{sys.executable}: {IMPORT_ERROR}. Install python3-docker on this node (the "
                             "docker_engine role does), or point ansible_python_interpreter at a Python that has it.")
    try:
        # Version "auto" asks the daemon already: an engine that does not answer fails here.
        return docker.APIClient(base_url=module.params["docker_host"], version="auto", timeout=timeout)
    except API_ERRORS as exc:
        module.fail_json(msg=f"Cannot connect to the Docker API at {module.params['docker_host']}: {exc}")
