"""What every scenario's tests share: its nodes, reached as its inventory describes them."""

import binascii
import os
import subprocess
import struct
import zlib
from pathlib import Path

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)


def node(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def playbook(name, *args, inventory=INVENTORY):
    """Run one of the project's playbooks against the scenario's inventory.

    Standard input is closed, as in CI: a question asked is a question unanswered.
    The result's `output` holds stdout and stderr together.
    """
    command = ["ansible-playbook", "-i", str(inventory), str(PROJECT / name), *args]
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    result.output = result.stdout + result.stderr
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
