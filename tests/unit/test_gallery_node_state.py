"""gallery_node_state, run by Ansible on this machine against its real Docker engine."""

import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def run(run_module):
    return lambda **args: run_module("gallery", "gallery_node_state", **args)


def test_images_lists_the_references_the_engine_holds(run):
    tags = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
                          capture_output=True, text=True, check=True).stdout.split()
    held = next(tag for tag in tags if "<none>" not in tag)
    found = run(images=["no-such/image:never", held])
    assert found["images"] == [held]
    assert found["changed"] is False


def test_ipvs_is_what_the_kernel_shows(run):
    found = run(load_ipvs=True)
    assert found["ipvs"] is Path("/proc/net/ip_vs").exists()
    assert found["images"] == []
