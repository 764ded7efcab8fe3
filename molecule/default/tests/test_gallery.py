"""The gallery stack, through Nginx's published port on every node."""

import time
import uuid

import pytest
import requests

from swarm_testing import RUNNER, STACK, archive_copies, make_png, node, stack_archives, upload


def fetch_when_served(url, timeout=90):
    """GET url until it answers 200 (a task restarting answers 503 or not at all)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"{url} not served within {timeout}s"
        time.sleep(2)


@pytest.mark.parametrize("name", RUNNER.get_hosts("all"))
def test_every_node_serves_the_gallery_page(node_urls, name):
    response = requests.get(f"{node_urls[name]}/", timeout=10)
    assert response.status_code == 200
    assert "Image gallery" in response.text
    assert response.headers["X-Served-By"]
    assert requests.get(f"{node_urls[name]}/healthz", timeout=10).status_code == 200


def test_the_nodes_loaded_the_one_archive_they_share_with_the_controller():
    archives = stack_archives()
    # The role removes the former ones.
    assert len(archives) == 1, archives
    for name in RUNNER.get_hosts("all"):
        host = node(name)
        assert host.file(str(archives[0])).size == archives[0].stat().st_size
        assert not archive_copies(host), f"{name} holds a copy of the archive"
        assert host.check_output("docker image ls --quiet gallery/app")


def test_requests_are_spread_across_replicas(node_urls):
    served_by = {requests.get(f"{node_urls['node1']}/", timeout=10).headers["X-Served-By"] for _ in range(30)}
    assert len(served_by) >= 2, served_by


def test_image_uploaded_through_node1_is_served_through_node3(node_urls):
    image = make_png(3, 2, (10, 200, 30))
    image_id = upload(node_urls["node1"], f"{uuid.uuid4().hex}.png", image)
    response = requests.get(f"{node_urls['node3']}/images/{image_id}", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content == image


def test_network_mode_follows_the_kernel(manager):
    has_ipvs = manager.file("/proc/net/ip_vs").exists
    mode = manager.check_output(f"docker service inspect {STACK}_gallery --format '{{{{.Spec.EndpointSpec.Mode}}}}'")
    assert mode == ("vip" if has_ipvs else "dnsrr")


def test_redis_data_survives_a_forced_update(manager, node_urls):
    image = make_png(2, 2, (1, 2, 3))
    image_id = upload(node_urls["node1"], "kept.png", image)
    running = f"docker service ps {STACK}_redis -q --filter desired-state=running"
    before = manager.check_output(running)
    manager.check_output(f"docker service update --force --quiet {STACK}_redis")
    after = manager.check_output(running)
    assert after and after != before, "the Redis task was not replaced"
    assert fetch_when_served(f"{node_urls['node2']}/images/{image_id}").content == image


def test_oversize_upload_is_refused_and_not_stored(node_urls):
    listed = requests.get(f"{node_urls['node1']}/api/images", timeout=10).json()
    too_big = make_png(1, 1, (0, 0, 0)) + b"\0" * (6 * 1024 * 1024)
    response = requests.post(f"{node_urls['node1']}/images", files={"image": ("big.png", too_big)}, timeout=30)
    assert response.status_code == 413
    assert requests.get(f"{node_urls['node1']}/api/images", timeout=10).json() == listed
