"""What every scenario's tests share: its nodes, reached as its inventory describes them."""

import binascii
import collections
import itertools
import json
import os
import re
import subprocess
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
ARTIFACTS = PROJECT / "artifacts"
STACK = "gallery"


def node(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def playbook(name, *args, inventory=INVENTORY):
    """Run one of the project's playbooks against the scenario's inventory.

    Standard input is closed, as in CI: a question asked is a question unanswered.
    The result's `output` holds stdout and stderr together.
    """
    command = ["ansible-playbook", "-i", str(inventory), str(PROJECT / name), *args]
    # Molecule forces colours on; the tests read the output as text.
    env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, check=False)
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


def changed(output):
    """changed= of each host, from the run's PLAY RECAP."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


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


class RequestLoop:
    """GETs against the gallery in a background thread, while something else happens.

    It plays the load balancer a real cluster has in front of its nodes:
    requests go round-robin to the nodes, and a request that a node does not
    answer at all (connection refused, reset or timed out: its engine is restarting) is
    retried on the next node, as nginx's proxy_next_upstream does for GETs.
    `unsteady` names the nodes (base URLs) a fault is hitting: their 502, 503
    and 504 are retried too (proxy_next_upstream http_502 http_503 http_504),
    because an Nginx whose engine is stopping can still accept a request it can
    no longer forward. Every other node must answer them without error.
    A failure is an HTTP error status, or a request that no node answered.
    """

    GATEWAY_ERRORS = (502, 503, 504)

    def __init__(self, name, urls, paths, pause=0.05, unsteady=()):
        self.name, self.urls, self.paths, self.pause = name, list(urls), list(paths), pause
        self.unsteady = set(unsteady)
        self.answered, self.retried, self.failures = 0, 0, []
        self.stores = collections.Counter()  # which Redis answered the reads (X-Store)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)
        # The figures, for whoever reports on a run (tests assert, they do not print).
        ARTIFACTS.mkdir(exist_ok=True)
        with (ARTIFACTS / "request-loops.log").open("a") as log:
            log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.name}: {self.answered} answered, "
                      f"{self.retried} retried on another node, {len(self.failures)} failed; "
                      f"reads by store {dict(self.stores)}\n")

    def _get(self, path, start):
        unanswered = []
        for offset in range(len(self.urls)):
            url = self.urls[(start + offset) % len(self.urls)] + path
            try:
                response = requests.get(url, timeout=5)
            except (requests.ConnectionError, requests.Timeout) as error:
                unanswered.append(f"{url}: {error.__class__.__name__}")
                self.retried += 1
                continue
            if response.status_code in self.GATEWAY_ERRORS and url[: -len(path)] in self.unsteady:
                unanswered.append(f"{url}: {response.status_code}")
                self.retried += 1
                continue
            if response.status_code >= 400:
                self.failures.append((time.strftime("%H:%M:%S"), url, response.status_code, response.text[:200]))
            else:
                self.answered += 1
                self.stores[response.headers.get("X-Store")] += 1
            return
        self.failures.append((time.strftime("%H:%M:%S"), path, None, "; ".join(unanswered)))

    def _run(self):
        for turn in itertools.count():
            if self._stop.is_set():
                return
            self._get(self.paths[turn % len(self.paths)], turn)
            time.sleep(self.pause)
