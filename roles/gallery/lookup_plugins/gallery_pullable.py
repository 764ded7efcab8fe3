"""Whether this machine's Docker engine can reach an image in its registry."""

from ansible.plugins.lookup import LookupBase

DOCUMENTATION = r"""
name: gallery_pullable
short_description: Whether this machine's Docker engine can reach each image in its registry
description:
  - Asks the engine for each image's manifest (the API's C(GET /distribution/<image>/json)), which the engine reads
    from the registry with its own settings (mirrors, proxy, logins). Nothing is pulled.
  - Runs in the controller's process, where the C(docker_image) module delegated to localhost would start a
    process and load the Docker SDK on every run, for a question that takes milliseconds.
  - The engine is found as the community.docker modules find it by default (C(DOCKER_HOST), C(DOCKER_TLS_VERIFY),
    C(DOCKER_CERT_PATH)). No engine answering counts as unreachable.
options:
  _terms:
    description: Image references.
    required: true
"""

RETURN = r"""
_raw:
  description: One boolean per image, true when the engine could read its manifest.
  type: list
"""


def pullable(client, references):
    """One boolean per reference: whether the engine behind client (a docker.APIClient) reads its manifest."""
    # Imported here so that listing the plugins does not need the SDK.
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    found = []
    for reference in references:
        try:
            client.inspect_distribution(reference)
            found.append(True)
        except (DockerException, RequestException):
            found.append(False)
    return found


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        import docker
        from docker.errors import DockerException

        try:
            # Asks the engine for its API version: fails here when none answers.
            client = docker.APIClient(**docker.utils.kwargs_from_env())
        except DockerException:
            return [False] * len(terms)
        with client:
            return pullable(client, terms)
