"""Both network modes render to the stack and Nginx configuration they promise."""

from pathlib import Path

import jinja2
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "gallery"
IMAGES = {"app": "gallery/app:1", "nginx": "gallery/nginx:1", "redis": "gallery/redis:1"}


def render(name, mode, replicas=2):
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {
        **defaults,
        "gallery_network": mode,
        "gallery_stack_images": IMAGES,
        "gallery_redis_replica_count": replicas,
        "gallery_nginx_conf": {"checksum": "0123456789abcdef"},
        "ansible_managed": "Managed by Ansible",
    }
    # The settings of Ansible's template module.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROLE / "templates"),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(name).render(variables)


@pytest.fixture(params=["mesh", "dnsrr"])
def mode(request):
    return request.param


@pytest.fixture
def stack(mode):
    return yaml.safe_load(render("docker-stack.yml.j2", mode))


def test_stack_runs_the_given_images(stack):
    images = {name: service["image"] for name, service in stack["services"].items()}
    assert images == {"nginx": IMAGES["nginx"], "gallery": IMAGES["app"], "redis": IMAGES["redis"],
                      "redis-replica": IMAGES["redis"]}


def test_read_replicas_stay_off_the_primary_node(stack):
    replica = stack["services"]["redis-replica"]
    assert replica["deploy"]["replicas"] == 2
    assert replica["deploy"]["placement"] == {"constraints": ["node.labels.storage != true"], "max_replicas_per_node": 1}
    assert replica["command"][:3] == ["redis-server", "--replicaof", "redis"]
    assert stack["services"]["gallery"]["environment"]["REDIS_REPLICA_URL"] == "redis://redis-replica:6379"


def test_no_read_replicas_means_no_replica_url(mode):
    stack = yaml.safe_load(render("docker-stack.yml.j2", mode, replicas=0))
    assert "redis-replica" not in stack["services"]
    assert "REDIS_REPLICA_URL" not in stack["services"]["gallery"]["environment"]


def test_mesh_publishes_through_ingress_with_virtual_ips(stack, mode):
    if mode != "mesh":
        return
    nginx = stack["services"]["nginx"]
    assert nginx["ports"][0]["mode"] == "ingress"
    assert nginx["deploy"]["replicas"] == 2
    assert all("endpoint_mode" not in service["deploy"] for service in stack["services"].values())


def test_dnsrr_publishes_on_every_node_without_virtual_ips(stack, mode):
    if mode != "dnsrr":
        return
    nginx = stack["services"]["nginx"]
    assert nginx["ports"][0] == {"target": 80, "published": 80, "protocol": "tcp", "mode": "host"}
    assert nginx["deploy"]["mode"] == "global"
    assert nginx["deploy"]["update_config"]["order"] == "stop-first"
    assert {service["deploy"]["endpoint_mode"] for service in stack["services"].values()} == {"dnsrr"}


def test_gallery_rolls_one_at_a_time_and_rolls_back(stack):
    gallery = stack["services"]["gallery"]["deploy"]
    assert gallery["replicas"] == 3
    assert gallery["update_config"] == {
        "parallelism": 1, "delay": "5s", "order": "start-first", "failure_action": "rollback", "monitor": "20s",
    }
    assert gallery["restart_policy"]["condition"] == "any"


def test_redis_is_pinned_to_its_data_and_persists(stack):
    redis = stack["services"]["redis"]
    assert redis["deploy"]["placement"]["constraints"] == ["node.labels.storage == true"]
    assert redis["volumes"] == ["redis-data:/data"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert redis["deploy"]["update_config"]["order"] == "stop-first"


def test_every_service_has_a_healthcheck_and_limits(stack):
    for service in stack["services"].values():
        assert service["healthcheck"]["test"]
        assert service["deploy"]["resources"]["limits"]["memory"]


def test_nginx_config_is_versioned_by_content(stack):
    assert stack["configs"]["nginx_conf"]["name"] == "gallery_nginx_0123456789ab"


def test_nginx_config_follows_the_mode(mode):
    conf = render("nginx.conf.j2", mode)
    assert "client_max_body_size 5308416;" in conf
    if mode == "mesh":
        assert "upstream gallery" in conf and "resolver" not in conf
    else:
        assert "resolver 127.0.0.11" in conf and "set $gallery http://gallery:3000;" in conf
