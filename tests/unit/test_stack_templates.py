"""Both network modes render to the stack and Nginx configuration they promise."""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.plugins.filter.core import to_bool

ROLE = Path(__file__).resolve().parents[2] / "roles" / "gallery"
IMAGES = {"app": "gallery/app:1", "nginx": "gallery/nginx:1", "redis": "gallery/redis:1"}
SECRET_FILE = "/run/secrets/redis_password"
REDIS_CLIENTS = ["gallery", "redis", "redis-replica"]


def render(name, mode, replicas=2, **settings):
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables = {
        **defaults,
        **settings,
        "gallery_network": mode,
        "gallery_stack_images": IMAGES,
        "gallery_redis_replica_count": replicas,
        "gallery_nginx_conf_digest": "0123456789ab",
        "gallery_redis_password_secret": "gallery_redis_password",
        "ansible_managed": "Managed by Ansible",
    }
    # The settings of Ansible's template module.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROLE / "templates"),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["bool"] = to_bool
    return environment.get_template(name).render(variables)


@pytest.fixture(params=["mesh", "dnsrr"])
def mode(request):
    return request.param


def interpolate(value):
    """What `docker stack deploy` makes of a string: `$$` is `$`, and a lone `$` would name a variable."""
    def substitute(match):
        if match.group(1) != "$":
            raise ValueError(f"compose would interpolate {match.group(0)!r} in {value!r}")
        return "$"
    return re.sub(r"\$(\$|.?)", substitute, value, flags=re.DOTALL)


def deployed(node):
    if isinstance(node, str):
        return interpolate(node)
    if isinstance(node, list):
        return [deployed(item) for item in node]
    if isinstance(node, dict):
        return {key: deployed(value) for key, value in node.items()}
    return node


@pytest.fixture
def stack(mode):
    return deployed(yaml.safe_load(render("docker-stack.yml.j2", mode)))


def test_stack_runs_the_given_images(stack):
    images = {name: service["image"] for name, service in stack["services"].items()}
    assert images == {"nginx": IMAGES["nginx"], "gallery": IMAGES["app"], "redis": IMAGES["redis"],
                      "redis-replica": IMAGES["redis"]}


@pytest.mark.parametrize("setting, options", [(False, None), ("false", None), (True, {"encrypted": ""}),
                                               ("yes", {"encrypted": ""})])
def test_overlay_networks_are_encrypted_on_request(mode, setting, options):
    stack = deployed(yaml.safe_load(render("docker-stack.yml.j2", mode, gallery_overlay_encrypted=setting)))
    assert set(stack["networks"]) == {"frontend", "backend"}
    for network in stack["networks"].values():
        assert network["driver"] == "overlay"
        assert network.get("driver_opts") == options


def test_read_replicas_stay_off_the_primary_node(stack):
    replica = stack["services"]["redis-replica"]
    assert replica["deploy"]["replicas"] == 2
    assert replica["deploy"]["placement"] == {"constraints": ["node.labels.storage != true"], "max_replicas_per_node": 1}
    assert replica["deploy"]["update_config"]["order"] == "stop-first"
    assert replica["command"][3:6] == ["redis-server", "--replicaof", "redis"]
    assert stack["services"]["gallery"]["environment"]["REDIS_REPLICA_URL"] == "redis://redis-replica:6379"


def test_no_read_replicas_means_no_replica_url(mode):
    stack = deployed(yaml.safe_load(render("docker-stack.yml.j2", mode, replicas=0)))
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


def test_redis_password_is_the_external_secret_mounted_by_its_clients(stack):
    assert stack["secrets"] == {"redis_password": {"external": True, "name": "gallery_redis_password"}}
    mounted = {name for name, service in stack["services"].items() if "secrets" in service}
    assert mounted == set(REDIS_CLIENTS)
    for name in REDIS_CLIENTS:
        assert stack["services"][name]["secrets"] == ["redis_password"]
    assert stack["services"]["gallery"]["environment"]["REDIS_PASSWORD_FILE"] == SECRET_FILE


def test_no_password_in_environments_or_command_lines(stack):
    for name, service in stack["services"].items():
        for variable in service.get("environment", {}):
            assert variable == "REDIS_PASSWORD_FILE" or not re.search("PASS|SECRET|AUTH|TOKEN", variable), (name, variable)
    for name in ["redis", "redis-replica"]:
        service = stack["services"][name]
        assert service["user"] == "redis"
        shell, flag, script, *arguments = service["command"]
        assert (shell, flag) == ("sh", "-c")
        assert arguments[0] == "redis-server"
        assert not {"--requirepass", "--masterauth"} & set(arguments)
        # The password reaches redis-server on its standard input only.
        assert f"sed 's/[\\\\\"]/\\\\&/g' {SECRET_FILE})" in script
        assert 'exec redis-server - "$@" <<EOF\nrequirepass "$password"\nmasterauth "$password"\nEOF\n' in script
        check = service["healthcheck"]["test"]
        assert check[0] == "CMD-SHELL" and f'REDISCLI_AUTH="$(cat {SECRET_FILE})" redis-cli ping' in check[1]
        assert " -a " not in check[1]


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server and redis-cli")
def test_redis_command_and_healthcheck_work_with_an_awkward_password(stack, tmp_path):
    """The services' own shell, run here with the secret file moved to tmp_path."""
    password = 'a "quoted" \\ back$lash `tick` pass'
    secret = tmp_path / "redis_password"
    secret.write_text(password + "\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = stack["services"]["redis"]["command"][2].replace(SECRET_FILE, str(secret))
    server = subprocess.Popen(
        ["sh", "-c", script, "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check = stack["services"]["redis"]["healthcheck"]["test"][1].replace(SECRET_FILE, str(secret))
    check = check.replace("redis-cli", f"redis-cli -p {port}")
    try:
        for _ in range(50):
            if subprocess.run(["sh", "-c", check], check=False).returncode == 0:
                break
            assert server.poll() is None, server.stdout.read()
            time.sleep(0.1)
        else:
            pytest.fail("the healthcheck never passed")
        anonymous = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False)
        assert "NOAUTH" in anonymous.stdout
        for view in ["cmdline", "environ"]:
            assert "back$lash" not in Path(f"/proc/{server.pid}/{view}").read_text(errors="replace"), view
        config = subprocess.run(["redis-cli", "-p", str(port), "--no-auth-warning", "config", "get", "masterauth"],
                                env={**os.environ, "REDISCLI_AUTH": password},
                                capture_output=True, text=True, check=True)
        assert config.stdout.splitlines() == ["masterauth", password]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_redis_refuses_to_start_on_an_empty_secret(stack, tmp_path):
    secret = tmp_path / "redis_password"
    secret.write_text("\n")
    script = stack["services"]["redis-replica"]["command"][2].replace(SECRET_FILE, str(secret))
    result = subprocess.run(["sh", "-c", script, "redis-server"], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr == f"redis-server: {secret} holds no password\n"
