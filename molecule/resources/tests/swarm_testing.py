"""What every scenario's tests share: its nodes, reached as its inventory describes them."""

import binascii
import functools
import json
import os
import subprocess
import struct
import time
import zlib
from pathlib import Path

import pytest
import requests
import testinfra
import testinfra.utils.ansible_runner

import recap
import request_loop

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
ARTIFACTS = PROJECT / "artifacts"
STACK = "gallery"
# gallery_archive_dir's default, on the controller; the lab's nodes see it at the same path.
ARCHIVES = Path.home() / ".cache" / "swarm-gallery"


def node(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def stack_archives():
    """The controller's image archives of the stack."""
    return sorted(ARCHIVES.glob(f"{STACK}-*.tar"))


def archive_copies(host):
    """Image archives copied to a node (gallery_node_archive_dir) and still there."""
    return host.run(f"ls /var/tmp/{STACK}-*.tar").stdout.split()


def playbook(name, *args, inventory=INVENTORY):
    """Run one of the project's playbooks against the scenario's inventory.

    Standard input is closed, as in CI: a question asked is a question unanswered.
    The result's `output` holds stdout and stderr together; its `text` holds
    them with every run of whitespace made one space, as Ansible wraps long
    messages where it likes.
    """
    command = ["ansible-playbook", "-i", str(inventory), str(PROJECT / name), *args]
    # Molecule forces colours on; the tests read the output as text.
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, check=False)
    result.output = result.stdout + result.stderr
    result.text = " ".join(result.output.split())
    return result


@pytest.fixture(scope="session")
def manager():
    return node(RUNNER.get_hosts("managers")[0])


@pytest.fixture(scope="session")
def node_urls():
    """Base URL of the gallery's published port on each node, by node name."""
    urls = {}
    for name in RUNNER.get_hosts("all"):
        addresses = [a for a in node(name).interface("eth0").addresses if ":" not in a]
        urls[name] = f"http://{addresses[0]}"
    return urls


def swarm_nodes(via):
    """The swarm's nodes by hostname, as a manager reports them."""
    ids = via.check_output("docker node ls -q").split()
    return {n["Description"]["Hostname"]: n for n in json.loads(via.check_output(f"docker node inspect {' '.join(ids)}"))}


def eventually(check, timeout=120, every=3):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, requests.RequestException):
            pass
        assert time.monotonic() < deadline, f"not true within {timeout}s: {check.__doc__}"
        time.sleep(every)


def replicas(via):
    lines = via.check_output(f"docker stack services {STACK} --format '{{{{.Name}}}} {{{{.Replicas}}}}'").splitlines()
    # "gallery_redis-replica 2/2 (max 1 per node)": the count is the second word.
    return dict(line.split()[:2] for line in lines)


def serving(node_urls, names):
    return all(requests.get(f"{node_urls[name]}/healthz", timeout=5).status_code == 200 for name in names)


def make_png(width, height, rgb):
    """A valid, decodable PNG of one colour (browsers check CRCs and zlib)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def upload(base_url, name, data):
    """Upload an image through the gallery's form endpoint; returns its id."""
    response = requests.post(
        f"{base_url}/images",
        files={"image": (name, data, "application/octet-stream")},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


# Every loop a test runs appends its figures to this log.
RequestLoop = functools.partial(request_loop.RequestLoop, log=ARTIFACTS / "request-loops.log")
changed = recap.changed
