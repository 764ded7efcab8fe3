"""Choose the address a node advertises to the rest of the swarm; judge the swarm's address pools."""

import ipaddress
from fnmatch import fnmatchcase

from ansible.errors import AnsibleFilterError

# Interfaces that container engines, hypervisors and overlay networks create
# on a host: never the address other nodes should use to reach it.
VIRTUAL_INTERFACES = (
    "lo",
    "docker*",
    "veth*",
    "br-*",
    "vxlan*",
    "vx-*",
    "ov-*",
    "virbr*",
    "cni*",
    "flannel*",
    "cali*",
    "tunl*",
    "kube-*",
)


def _interfaces(facts):
    """Map each interface name to its facts, from an ansible_facts mapping."""
    found = {}
    for name in facts.get("interfaces", []):
        # Fact keys are the interface names with '-' turned into '_'.
        details = facts.get(name.replace("-", "_"))
        if isinstance(details, dict):
            found[name] = details
    return found


def _ipv4(details):
    return (details.get("ipv4") or {}).get("address")


def swarm_advertise_address(facts, address=None, interface=None, host="this host",
                            ignored=VIRTUAL_INTERFACES):
    """Return the IPv4 address `host` should advertise to the swarm.

    In order: an explicit `address`; else the IPv4 address of `interface`;
    else the only physical interface's IPv4 address. A host with several
    candidate interfaces and no setting is an error, as it is for
    `docker swarm init`: guessing would pick the wrong network half the time.
    """
    if address:
        return str(address)
    interfaces = _interfaces(facts)
    if interface:
        if interface not in interfaces:
            raise AnsibleFilterError(
                f"{host}: docker_swarm_advertise_interface is '{interface}', but the host has "
                f"no such interface (it has: {', '.join(sorted(interfaces)) or 'none'})."
            )
        ipv4 = _ipv4(interfaces[interface])
        if not ipv4:
            raise AnsibleFilterError(
                f"{host}: interface '{interface}' (docker_swarm_advertise_interface) has no IPv4 address."
            )
        return ipv4
    candidates = [
        (name, _ipv4(details))
        for name, details in sorted(interfaces.items())
        if _ipv4(details)
        and details.get("active", True)
        and not _ipv4(details).startswith("127.")
        and not any(fnmatchcase(name, pattern) for pattern in ignored)
    ]
    if len(candidates) == 1:
        return candidates[0][1]
    if not candidates:
        raise AnsibleFilterError(
            f"{host}: no network interface with an IPv4 address to advertise to the swarm "
            "(loopback and container bridges do not count). Set docker_swarm_advertise_addr."
        )
    listed = ", ".join(f"{name} {ipv4}" for name, ipv4 in candidates)
    raise AnsibleFilterError(
        f"{host}: cannot choose the address to advertise to the swarm: several interfaces "
        f"have one ({listed}). Set docker_swarm_advertise_interface to the interface the "
        "nodes reach each other on, or docker_swarm_advertise_addr to its address."
    )


def swarm_address_pool_problems(pools, subnet_size):
    """What Docker would refuse at `docker swarm init` in the pools and the subnet size: a list of sentences.

    Docker's rule (validateDefaultAddrPool): each pool is a network in CIDR form (host bits allowed); each
    overlay network, a /subnet_size carved from a pool, is at most a /29 (8 addresses, the fewest its
    allocator works with) and fits in every pool; a subnet size of 0 is its default, 24. Without pools
    the size is not read (the role passes it with pools only).
    """
    if not pools:
        return []
    size = int(subnet_size) or 24
    problems = []
    if size > 29:
        problems.append(f"docker_swarm_subnet_size is {subnet_size}: it takes a prefix length of 29 or less "
                        "(a /29 network holds 8 addresses, the fewest Docker allocates from).")
    for pool in pools:
        text = str(pool).strip()
        try:
            network = ipaddress.ip_network(text, strict=False) if "/" in text else None
        except ValueError:
            network = None
        if network is None:
            problems.append(f"docker_swarm_default_addr_pool holds '{pool}': it takes networks in CIDR form, "
                            "such as 10.20.0.0/16.")
        elif network.prefixlen > size:
            problems.append(f"docker_swarm_subnet_size is {subnet_size}, but the pool {pool} is smaller than a /{size}: "
                            f"give it a size of {network.prefixlen} or more, or a larger pool.")
    return problems


class FilterModule:
    def filters(self):
        return {
            "swarm_advertise_address": swarm_advertise_address,
            "swarm_address_pool_problems": swarm_address_pool_problems,
        }
