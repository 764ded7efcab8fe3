from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from preflight import (preflight_addresses, preflight_clock_spread, preflight_duplicates, preflight_failed_probes, preflight_out_of_range,
                       preflight_port_targets, preflight_role_variables, preflight_unchecked_ports, preflight_unknown_variables)

ROLES = Path(__file__).resolve().parents[2] / "roles"
SWARM_PORTS = [{"port": 7946, "proto": "tcp"}, {"port": 7946, "proto": "udp"}, {"port": 4789, "proto": "udp"}]


def test_role_variables_come_from_every_roles_argument_specs():
    found = preflight_role_variables(ROLES)
    assert {"docker_engine_", "docker_swarm_", "gallery_", "preflight_"} <= set(found["prefixes"])
    assert "gallery_replicas" in found["names"] and "swarm_settle_timeout" in found["names"]
    assert "gallery_replicas" in found["main"] and "docker_engine_source" in found["main"]


def test_an_option_two_roles_declare_differently_is_an_error(tmp_path):
    for role, kind in (("one", "str"), ("two", "int")):
        (tmp_path / role / "meta").mkdir(parents=True)
        (tmp_path / role / "meta" / "argument_specs.yml").write_text(
            f"argument_specs:\n  main:\n    options:\n      shared_port: {{type: {kind}}}\n")
    with pytest.raises(AnsibleFilterError, match="one and two declare shared_port differently"):
        preflight_role_variables(tmp_path)


def test_misspelt_variables_are_grouped_by_name_with_a_suggestion():
    found = preflight_unknown_variables(
        {"n1": ["gallery_replica", "ansible_host", "docker_swarm_node_labels"], "n2": ["gallery_replica", "gallery_zzz"]},
        ["gallery_replicas", "docker_swarm_node_labels"], ["gallery_", "docker_swarm_"])
    assert found == [
        {"name": "gallery_replica", "hosts": ["n1", "n2"], "suggestion": "gallery_replicas"},
        {"name": "gallery_zzz", "hosts": ["n2"], "suggestion": ""},
    ]


def test_duplicates_ignore_empty_values():
    assert preflight_duplicates({"a": "x", "b": "x", "c": "y", "d": "", "e": ""}) == {"x": ["a", "b"]}


def test_clock_spread_names_the_two_extremes():
    assert preflight_clock_spread({"a": 100.0, "b": 131.04, "c": 120.0}) == {"seconds": 31.0, "earliest": "a", "latest": "b"}
    assert preflight_clock_spread({})["seconds"] == 0.0


def test_targets_are_the_other_hosts_without_their_held_udp_ports():
    ports = {"m1": [{"port": 2377, "proto": "tcp"}, *SWARM_PORTS], "w1": SWARM_PORTS}
    held = {"m1": [{"port": 2377, "proto": "tcp"}, {"port": 7946, "proto": "tcp"}, {"port": 7946, "proto": "udp"}], "w1": []}
    targets = preflight_port_targets("w1", ports, held, {"m1": "10.0.0.1", "w1": "10.0.0.2"})
    assert [(t["name"], t["address"], t["port"], t["proto"]) for t in targets] == [
        ("m1", "10.0.0.1", 2377, "tcp"), ("m1", "10.0.0.1", 7946, "tcp"), ("m1", "10.0.0.1", 4789, "udp")]
    assert preflight_unchecked_ports(held) == ["m1 7946/udp"]


def test_failed_probes_name_both_ends():
    results = {"w1": [{"name": "m1", "address": "10.0.0.1", "port": 4789, "proto": "udp", "ok": False, "error": "timed out"},
                      {"name": "m1", "address": "10.0.0.1", "port": 2377, "proto": "tcp", "ok": True}]}
    assert preflight_failed_probes(results) == ["w1 -> m1 (10.0.0.1) 4789/udp: timed out"]


def test_hosts_are_told_apart_by_address_user_and_port():
    hostvars = {
        "a": {"ansible_host": "192.0.2.1"},
        "b": {"ansible_host": "192.0.2.1"},
        "c": {},
        "d": {"ansible_host": "gw", "ansible_user": "ip10-0-0-1-s"},
        "e": {"ansible_host": "gw", "ansible_user": "ip10-0-0-2-s"},
        "f": {"ansible_host": "192.0.2.1", "ansible_port": 2222},
    }
    addresses = preflight_addresses(list(hostvars), hostvars)
    assert addresses == {"a": "192.0.2.1", "b": "192.0.2.1", "c": "c", "d": "ip10-0-0-1-s@gw", "e": "ip10-0-0-2-s@gw",
                         "f": "192.0.2.1:2222"}
    assert preflight_duplicates(addresses) == {"192.0.2.1": ["a", "b"]}


def test_out_of_range_numbers_are_named_with_what_their_name_allows():
    spec = preflight_role_variables(ROLES)["main"]
    given = {"gallery_http_port": "70000", "docker_swarm_listen_port": 2377, "swarm_drain_timeout": "0",
             "swarm_settle_interval": "-0.5", "preflight_min_free_gib": -1, "preflight_max_clock_skew": 0,
             "gallery_stack_name": "gallery", "swarm_firewall_ports": [{"port": 7946, "proto": "udp"}, {"port": "0", "proto": "tcp"}]}
    assert preflight_out_of_range(given, spec) == [
        "gallery_http_port is 70000: it takes a port, 1 to 65535",
        "swarm_drain_timeout is 0: it takes a number of seconds above 0",
        "swarm_settle_interval is -0.5: it takes a number of seconds above 0",
        "preflight_min_free_gib is -1: it takes a number, 0 or more",
        "swarm_firewall_ports[1].port is 0: it takes a port, 1 to 65535",
    ]


def test_every_port_and_wait_of_the_roles_is_named_for_its_rule():
    """Where these variables' ranges are checked: preflight_out_of_range, by their names (a renamed one would escape)."""
    spec = preflight_role_variables(ROLES)["main"]
    # The lab's numbers follow the same rules; its own checks are the lab's (make lab).
    numbers = {name for name, option in spec.items() if option.get("type") in ("int", "float") and not name.startswith("swarm_lab_")}
    ports = {name for name in numbers if name.endswith("_port")}
    waits = {name for name in numbers if name.endswith(("_timeout", "_interval"))}
    assert ports == {"docker_swarm_listen_port", "gallery_http_port"}
    assert spec["swarm_firewall_ports"]["options"]["port"]["type"] == "int"
    assert waits == {"gallery_deploy_timeout", "preflight_port_timeout", "swarm_activate_timeout", "swarm_drain_timeout",
                     "swarm_ready_timeout", "swarm_settle_interval", "swarm_settle_timeout"}
    # The others take 0 or more (the gallery's replicas and upload limit, and the backups kept, 1 or more:
    # their roles' tasks/validate.yml).
    assert numbers - ports - waits == {"docker_engine_apt_cache_valid_time", "docker_swarm_subnet_size", "gallery_max_upload_bytes",
                                       "gallery_multipart_overhead_bytes", "gallery_nginx_replicas", "gallery_replicas",
                                       "preflight_max_clock_skew", "preflight_min_free_gib", "swarm_backup_keep"}
