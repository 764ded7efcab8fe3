"""upgrade.yml moves a Debian 12 cluster to Debian 13 and its engine, one node at a time, while it serves."""

import re

import pytest
import requests

from swarm_testing import RUNNER, STACK, RequestLoop, changed, make_png, node, playbook, replicas, upload

HOSTS = RUNNER.get_hosts("all")


def engine(name):
    return node(name).check_output("docker version --format '{{.Server.Version}}'")


def release(name):
    return node(name).check_output(". /etc/os-release && echo $VERSION_ID")


@pytest.fixture(scope="module")
def upgrade(node_urls):
    """Upload an image, then run the release upgrade under a request loop."""
    image = make_png(3, 3, (90, 30, 200))
    image_id = upload(node_urls[HOSTS[0]], "before-upgrade.png", image)
    before = {name: (release(name), engine(name)) for name in HOSTS}
    with RequestLoop("upgrade.yml from Debian 12 to 13", node_urls.values(),
                     ["/", "/api/images", f"/images/{image_id}"]) as loop:
        result = playbook("upgrade.yml", "-e", "docker_engine_upgrade_release=trixie")
    return {"before": before, "result": result, "loop": loop, "image": image, "image_id": image_id}


def test_the_cluster_starts_on_debian_12_and_docker_20(upgrade):
    assert {rel for rel, _ in upgrade["before"].values()} == {"12"}
    assert all(version.startswith("20.10.") for _, version in upgrade["before"].values())


def test_every_node_runs_debian_13_and_its_engine(upgrade):
    assert upgrade["result"].returncode == 0, upgrade["result"].output[-3000:]
    for name in HOSTS:
        assert release(name) == "13"
        assert engine(name).startswith("26.")
        # Debian 13 ships the client apart: the role installs it.
        assert node(name).check_output("dpkg-query -W -f '${Status}' docker-cli") == "install ok installed"


def test_no_request_failed_during_the_upgrade(upgrade):
    loop = upgrade["loop"]
    assert loop.failures == [], loop.failures[:10]
    assert loop.answered > 200


def test_the_mixed_versions_were_reported(upgrade):
    # The report as printed, its lines joined again.
    output = re.sub(r"\s+", " ", upgrade["result"].output)
    assert re.search(r"Docker engines: [^']*26\.[^']*20\.10\.[^']*Mixed versions|"
                     r"Docker engines: [^']*20\.10\.[^']*26\.[^']*Mixed versions", output), output[-3000:]


def test_the_data_and_the_services_came_through(upgrade, manager, node_urls):
    for name in HOSTS:
        response = requests.get(f"{node_urls[name]}/images/{upgrade['image_id']}", timeout=10)
        assert response.content == upgrade["image"], name
    counts = replicas(manager)
    assert counts[f"{STACK}_gallery"] == "3/3" and counts[f"{STACK}_redis"] == "1/1"


def test_a_second_upgrade_and_site_yml_change_nothing(upgrade):
    for name, args in (("upgrade.yml", ["-e", "docker_engine_upgrade_release=trixie"]), ("site.yml", [])):
        result = playbook(name, *args)
        assert result.returncode == 0, result.output[-3000:]
        assert set(changed(result.output).values()) == {0}, (name, changed(result.output))
