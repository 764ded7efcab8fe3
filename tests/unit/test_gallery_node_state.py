"""gallery_node_state, run by Ansible on this machine against its real Docker engine."""

import io
import subprocess
import tarfile
from pathlib import Path

import pytest


@pytest.fixture
def run(run_module):
    return lambda **args: run_module("gallery", "gallery_node_state", **args)


@pytest.fixture
def held():
    """An image this engine holds: imported from an empty archive (a fresh
    machine holds none, and there is no registry to pull one from)."""
    reference = "swarm-unit/held:test"
    subprocess.run(["docker", "image", "import", "-", reference], input=_empty_tar(), capture_output=True, check=True)
    yield reference
    subprocess.run(["docker", "image", "rm", reference], capture_output=True, check=True)


def _empty_tar():
    archive = io.BytesIO()
    tarfile.open(fileobj=archive, mode="w").close()
    return archive.getvalue()


def test_images_lists_the_references_the_engine_holds(run, held):
    found = run(images=["no-such/image:never", held])
    assert found["images"] == [held]
    assert found["changed"] is False


def test_ipvs_is_what_the_kernel_shows(run):
    found = run(load_ipvs=True)
    assert found["ipvs"] is Path("/proc/net/ip_vs").exists()
    assert found["images"] == []
