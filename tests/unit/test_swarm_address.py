import pytest
from ansible.errors import AnsibleFilterError

from swarm_address import swarm_address_pool_problems, swarm_advertise_address


def iface(name, ipv4=None, active=True):
    details = {"device": name, "active": active}
    if ipv4:
        details["ipv4"] = {"address": ipv4, "netmask": "255.255.255.0"}
    return details


def facts(*interfaces):
    found = {"interfaces": [i["device"] for i in interfaces]}
    for i in interfaces:
        found[i["device"].replace("-", "_")] = i
    return found


LAB_NODE = facts(
    iface("lo", "127.0.0.1"),
    iface("eth0", "172.18.0.2"),
    iface("docker0", "172.17.0.1"),
    iface("docker_gwbridge", "172.19.0.1"),
    iface("veth1a2b3c"),
    iface("br-0123abcd", "172.20.0.1"),
)
TWO_NICS = facts(iface("lo", "127.0.0.1"), iface("eth0", "10.0.2.15"), iface("eth1", "192.168.56.10"))


def test_single_physical_interface_is_chosen_over_container_bridges():
    assert swarm_advertise_address(LAB_NODE) == "172.18.0.2"


def test_explicit_address_wins():
    assert swarm_advertise_address(TWO_NICS, address="192.0.2.7") == "192.0.2.7"


def test_interface_setting_picks_its_address():
    assert swarm_advertise_address(TWO_NICS, interface="eth1") == "192.168.56.10"


def test_interface_with_dash_in_its_name():
    node = facts(iface("lo", "127.0.0.1"), iface("ens-lan", "10.1.0.4"), iface("eth0", "10.9.0.4"))
    assert swarm_advertise_address(node, interface="ens-lan") == "10.1.0.4"


def test_two_interfaces_without_setting_is_an_error_naming_both():
    with pytest.raises(AnsibleFilterError) as error:
        swarm_advertise_address(TWO_NICS, host="vm1")
    message = str(error.value)
    assert message.startswith("vm1: cannot choose")
    assert "eth0 10.0.2.15" in message and "eth1 192.168.56.10" in message
    assert "docker_swarm_advertise_interface" in message


def test_unknown_interface_lists_the_real_ones():
    with pytest.raises(AnsibleFilterError, match=r"no such interface \(it has: eth0, eth1, lo\)"):
        swarm_advertise_address(TWO_NICS, interface="eth9")


def test_interface_without_ipv4_is_an_error():
    node = facts(iface("eth0", "10.0.0.5"), iface("eth1"))
    with pytest.raises(AnsibleFilterError, match="'eth1'.*has no IPv4 address"):
        swarm_advertise_address(node, interface="eth1")


def test_inactive_interface_is_not_a_candidate():
    node = facts(iface("eth0", "10.0.0.5"), iface("eth1", "10.0.1.5", active=False))
    assert swarm_advertise_address(node) == "10.0.0.5"


def test_no_candidate_is_an_error():
    node = facts(iface("lo", "127.0.0.1"), iface("docker0", "172.17.0.1"))
    with pytest.raises(AnsibleFilterError, match="no network interface with an IPv4 address"):
        swarm_advertise_address(node)


def test_pools_docker_takes_raise_no_problem():
    # Host bits as Docker's CIDR parser takes them; a size of 0 is Docker's 24.
    assert swarm_address_pool_problems(["10.20.0.1/16", " 10.30.0.0/24"], 24) == []
    assert swarm_address_pool_problems(["10.20.0.0/16"], 0) == []
    # Without pools the size is not read.
    assert swarm_address_pool_problems([], 99) == []


def test_pools_docker_refuses_are_each_named():
    assert swarm_address_pool_problems(["10.20.0.0", "10.30.0.0/26", "nope/8"], 30) == [
        "docker_swarm_subnet_size is 30: it takes a prefix length of 29 or less "
        "(a /29 network holds 8 addresses, the fewest Docker allocates from).",
        "docker_swarm_default_addr_pool holds '10.20.0.0': it takes networks in CIDR form, such as 10.20.0.0/16.",
        "docker_swarm_default_addr_pool holds 'nope/8': it takes networks in CIDR form, such as 10.20.0.0/16.",
    ]
    assert swarm_address_pool_problems(["10.30.0.0/26"], 24) == [
        "docker_swarm_subnet_size is 24, but the pool 10.30.0.0/26 is smaller than a /24: "
        "give it a size of 26 or more, or a larger pool."]
