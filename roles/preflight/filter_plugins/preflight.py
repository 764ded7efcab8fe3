"""Controller-side judgements of the preflight role: pure functions of inventory data and host reports."""

import copy
import difflib
import functools
import re
from pathlib import Path

import yaml
from ansible.errors import AnsibleFilterError


def preflight_role_variables(roles_dir):
    """What the roles in a directory declare.

    {prefixes: ['<role>_', ...], names: [every option of every entry point], main: {option: spec}}, where main
    holds the options of every role's main entry point, so that one validation checks them all. An option two
    roles declare differently is an error: one of the two specifications would go unchecked.
    """
    # A task reads this several times while it templates; the files are read once.
    return copy.deepcopy(_role_variables(str(Path(roles_dir).resolve())))


@functools.lru_cache(maxsize=None)
def _role_variables(roles_dir):
    prefixes, names, main, owner = [], set(), {}, {}
    for spec_file in sorted(Path(roles_dir).glob("*/meta/argument_specs.yml")):
        role = spec_file.parent.parent.name
        prefixes.append(role + "_")
        entries = (yaml.safe_load(spec_file.read_text()) or {}).get("argument_specs", {})
        for entry in entries.values():
            names.update((entry or {}).get("options", {}))
        for name, spec in ((entries.get("main") or {}).get("options") or {}).items():
            # Required options are what a playbook hands a role when it calls it (swarm_drain_nodes, say),
            # not inventory settings: checked when the role runs, not here.
            spec = {key: value for key, value in spec.items() if key != "required"}
            if name in main and main[name] != spec:
                raise AnsibleFilterError(f"{owner[name]} and {role} declare {name} differently in their argument_specs.yml")
            main[name], owner[name] = spec, role
    return {"prefixes": prefixes, "names": sorted(names), "main": main}


def preflight_unknown_variables(names_by_host, known, prefixes):
    """Variables that carry a role's prefix but that no role declares: typos, or options that do not exist.

    Returns one item per name, sorted: {name, hosts, suggestion} (suggestion is '' without a close match).
    """
    known = set(known)
    found = {}
    for host, names in names_by_host.items():
        for name in names:
            if name not in known and any(name.startswith(prefix) for prefix in prefixes):
                found.setdefault(name, []).append(host)
    return [
        {"name": name, "hosts": sorted(hosts), "suggestion": next(iter(difflib.get_close_matches(name, known, 1, 0.8)), "")}
        for name, hosts in sorted(found.items())
    ]


def _out_of_range(name, number):
    """What a number named `name` takes, when `number` is not that; None when it is.

    The name tells what a number is for: every role names its ports *_port (an item of a list: port)
    and its waits in seconds *_timeout or *_interval, so these rules cover all of them, the next role's too.
    """
    if re.search(r"(^|_)port$", name):
        return None if 1 <= number <= 65535 else "a port, 1 to 65535"
    if re.search(r"_(timeout|interval)$", name):
        return None if number > 0 else "a number of seconds above 0"
    # Counts, sizes, free space, clock skew: no role takes a negative one.
    return None if number >= 0 else "a number, 0 or more"


def _numbers(path, name, value, spec):
    """(path, name, number) for each int or float of a variable's value, its items' included, after its spec."""
    kind = spec.get("type")
    if kind in ("int", "float"):
        yield path, name, int(value) if kind == "int" else float(value)
    options = spec.get("options")
    if not options:
        return
    # A list of dicts (swarm_firewall_ports) is read item by item; a dict as one item.
    items = [(f"{path}[{index}]", item) for index, item in enumerate(value)] if kind == "list" else [(path, value)]
    for where, item in items:
        for key, option in options.items():
            if key in item:
                yield from _numbers(f"{where}.{key}", key, item[key], option)


def preflight_out_of_range(values, spec):
    """The numbers among `values` ({variable: value given}) that their name's range refuses (_out_of_range).

    One string per number, in the variables' order: "path is number: it takes what is allowed". The values
    passed their specification first (validate_argument_spec), so each number converts.
    """
    return [
        f"{path} is {number}: it takes {allowed}"
        for variable, value in values.items()
        for path, name, number in _numbers(variable, variable, value, spec[variable])
        if (allowed := _out_of_range(name, number))
    ]


def preflight_duplicates(value_by_host):
    """Values that more than one host has: {value: [hosts]}. Empty values are ignored."""
    hosts_by_value = {}
    for host, value in value_by_host.items():
        if value not in (None, ""):
            hosts_by_value.setdefault(value, []).append(host)
    return {value: sorted(hosts) for value, hosts in hosts_by_value.items() if len(hosts) > 1}


def preflight_addresses(hosts, hostvars):
    """Where Ansible reaches each host: {host: [user@]ansible_host (or the inventory name)[:port]}.

    The user and the port count: an SSH gateway (Play-with-Docker's) reaches a
    different machine at one address for each user name.
    """
    addresses = {}
    for host in hosts:
        variables = hostvars[host]
        user, port = variables.get("ansible_user"), variables.get("ansible_port")
        address = variables.get("ansible_host", host)
        addresses[host] = f"{user + '@' if user else ''}{address}{':' + str(port) if port else ''}"
    return addresses


def preflight_clock_spread(time_by_host):
    """How far apart the hosts' clocks read: {seconds, earliest, latest} (hosts named)."""
    if not time_by_host:
        return {"seconds": 0.0, "earliest": "", "latest": ""}
    earliest = min(time_by_host, key=time_by_host.get)
    latest = max(time_by_host, key=time_by_host.get)
    return {"seconds": round(time_by_host[latest] - time_by_host[earliest], 1), "earliest": earliest, "latest": latest}


def preflight_port_targets(host, ports_by_host, in_use_by_host, address_by_host):
    """What `host` probes: every other host's swarm ports, at its advertise address.

    A UDP port another process already holds (a running swarm's) cannot be told from a
    dropped one, so it is left out: see preflight_unchecked_ports. TCP ports in use
    still answer a connection, which is proof enough.
    """
    targets = []
    for peer, ports in ports_by_host.items():
        if peer == host:
            continue
        held = {(p["port"], p["proto"]) for p in in_use_by_host.get(peer, [])}
        for port in ports:
            if port["proto"] == "tcp" or (port["port"], port["proto"]) not in held:
                targets.append({"name": peer, "address": address_by_host[peer], "port": port["port"], "proto": port["proto"]})
    return targets


def preflight_unchecked_ports(in_use_by_host):
    """UDP ports that could not be probed, as 'host port/udp' strings."""
    return [f"{host} {p['port']}/udp" for host, ports in sorted(in_use_by_host.items()) for p in ports if p["proto"] == "udp"]


def preflight_failed_probes(results_by_host):
    """Every probe that did not get through, as 'source -> target (address) port/proto: error' strings."""
    return [
        f"{source} -> {r['name']} ({r['address']}) {r['port']}/{r['proto']}: {r.get('error') or 'no answer'}"
        for source, results in sorted(results_by_host.items())
        for r in results
        if not r["ok"]
    ]


class FilterModule:
    def filters(self):
        return {
            "preflight_role_variables": preflight_role_variables,
            "preflight_unknown_variables": preflight_unknown_variables,
            "preflight_out_of_range": preflight_out_of_range,
            "preflight_duplicates": preflight_duplicates,
            "preflight_addresses": preflight_addresses,
            "preflight_clock_spread": preflight_clock_spread,
            "preflight_port_targets": preflight_port_targets,
            "preflight_unchecked_ports": preflight_unchecked_ports,
            "preflight_failed_probes": preflight_failed_probes,
        }
