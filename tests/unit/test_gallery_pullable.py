"""The gallery_pullable lookup, asking this machine's real Docker engine."""

import docker
from gallery_pullable import LookupModule, pullable


def test_an_image_no_registry_holds_is_not_pullable():
    with docker.APIClient(**docker.utils.kwargs_from_env()) as client:
        assert pullable(client, ["swarm-unit/no-such-image:never"]) == [False]


def test_no_engine_answering_counts_as_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert LookupModule().run(["node:20-alpine", "redis:7"]) == [False, False]
