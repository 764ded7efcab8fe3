"""The swarm ports firewall's rules, in the forms nftables, ufw and firewalld take and list them."""

import ipaddress
import re

from ansible.errors import AnsibleFilterError

UFW_LINE = re.compile(
    r"^ufw (?P<rule>allow|deny) (?:from (?P<src>\S+) to any port (?P<port>\d+) proto (?P<proto>\w+)"
    r"|(?P<any_port>\d+)/(?P<any_proto>\w+)) comment '(?P<comment>[^']*)'$"
)
RICH_PRIORITY = re.compile(r'^rule priority="(-?\d+)" ')


def _canonical(member):
    """An address, or a network in CIDR form, written as the firewalls print it back."""
    try:
        network = ipaddress.ip_network(str(member).strip(), strict=False)
    except ValueError as error:
        raise AnsibleFilterError(f"swarm_firewall_members: {member!r} is not an IP address or network ({error}).") from None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _family(address):
    return "ipv6" if ":" in address else "ipv4"


def _ports(ports):
    return sorted({(int(p["port"]), str(p["proto"])) for p in ports})


def swarm_firewall_addresses(members, family=None):
    """The members, canonical, sorted and without duplicates; only those of `family` (ipv4, ipv6) when given."""
    found = {_canonical(m) for m in members}
    chosen = [a for a in found if family in (None, _family(a))]
    return sorted(chosen, key=lambda a: (ipaddress.ip_network(a).version, ipaddress.ip_network(a)))


def swarm_firewall_not_addresses(members):
    """The members the rules cannot be written from (swarm_firewall_addresses would raise on them), in order."""
    refused = []
    for member in members:
        try:
            _canonical(member)
        except AnsibleFilterError:
            refused.append(member)
    return refused


def swarm_firewall_port_numbers(ports, proto):
    """The port numbers of `ports` (a list of {port, proto}) that use `proto`, sorted."""
    return [port for port, used in _ports(ports) if used == proto]


def swarm_firewall_ufw_rules(members, ports):
    """The ufw rules that let the members alone reach the ports: [{rule, src, port, proto}], the allows first."""
    ports = _ports(ports)
    allows = [{"rule": "allow", "src": m, "port": p, "proto": proto} for m in swarm_firewall_addresses(members) for p, proto in ports]
    denies = [{"rule": "deny", "src": "any", "port": p, "proto": proto} for p, proto in ports]
    return allows + denies


def swarm_firewall_ufw_added(text, comment):
    """The rules of `ufw show added` output that carry `comment`, in the form swarm_firewall_ufw_rules gives."""
    found = []
    for line in text.splitlines():
        match = UFW_LINE.match(line.strip())
        if not match or match["comment"] != comment:
            continue
        if match["src"]:
            found.append({"rule": match["rule"], "src": match["src"], "port": int(match["port"]), "proto": match["proto"]})
        else:
            found.append({"rule": match["rule"], "src": "any", "port": int(match["any_port"]), "proto": match["any_proto"]})
    return found


def swarm_firewall_rich_rules(members, ports, priority):
    """firewalld rich rules, as firewall-cmd lists them: accept from each member at `priority`, then drop at `priority` + 1."""
    ports = _ports(ports)
    accepts = [
        f'rule priority="{priority}" family="{_family(m)}" source address="{m}" port port="{p}" protocol="{proto}" accept'
        for m in swarm_firewall_addresses(members)
        for p, proto in ports
    ]
    drops = [f'rule priority="{priority + 1}" port port="{p}" protocol="{proto}" drop' for p, proto in ports]
    return accepts + drops


def swarm_firewall_rich_rules_owned(text, priority):
    """The rich rules of `firewall-cmd --list-rich-rules` output at the priorities swarm_firewall_rich_rules uses."""
    owned = (str(priority), str(priority + 1))
    return [line.strip() for line in text.splitlines() if (m := RICH_PRIORITY.match(line.strip())) and m[1] in owned]


class FilterModule:
    def filters(self):
        return {
            "swarm_firewall_addresses": swarm_firewall_addresses,
            "swarm_firewall_not_addresses": swarm_firewall_not_addresses,
            "swarm_firewall_port_numbers": swarm_firewall_port_numbers,
            "swarm_firewall_ufw_rules": swarm_firewall_ufw_rules,
            "swarm_firewall_ufw_added": swarm_firewall_ufw_added,
            "swarm_firewall_rich_rules": swarm_firewall_rich_rules,
            "swarm_firewall_rich_rules_owned": swarm_firewall_rich_rules_owned,
        }
