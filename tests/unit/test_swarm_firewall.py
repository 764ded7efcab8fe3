import pytest
from ansible.errors import AnsibleFilterError

from swarm_firewall import (
    swarm_firewall_addresses,
    swarm_firewall_not_addresses,
    swarm_firewall_port_numbers,
    swarm_firewall_rich_rules,
    swarm_firewall_rich_rules_owned,
    swarm_firewall_ufw_added,
    swarm_firewall_ufw_rules,
)

PORTS = [
    {"port": 2377, "proto": "tcp"},
    {"port": 7946, "proto": "tcp"},
    {"port": 7946, "proto": "udp"},
    {"port": 4789, "proto": "udp"},
]


def test_addresses_are_canonical_sorted_and_unique():
    members = ["172.18.0.3", "172.18.0.2", " 172.18.0.2", "10.0.0.7/24", "172.18.0.10/32"]
    assert swarm_firewall_addresses(members) == ["10.0.0.0/24", "172.18.0.2", "172.18.0.3", "172.18.0.10"]


def test_addresses_split_by_family():
    members = ["fd00:0:0::1", "192.0.2.1", "fd00::/64"]
    assert swarm_firewall_addresses(members) == ["192.0.2.1", "fd00::/64", "fd00::1"]
    assert swarm_firewall_addresses(members, "ipv4") == ["192.0.2.1"]
    assert swarm_firewall_addresses(members, "ipv6") == ["fd00::/64", "fd00::1"]


@pytest.mark.parametrize("member", ["", "node1", "300.1.1.1"])
def test_an_entry_that_is_not_an_address_is_an_error(member):
    with pytest.raises(AnsibleFilterError, match="swarm_firewall_members"):
        swarm_firewall_addresses(["192.0.2.1", member])


def test_members_the_rules_cannot_be_written_from_are_listed_in_order():
    members = ["192.0.2.1", "node1", "10.0.0.7/24", "300.1.1.1", " fd00::1", "10.0.0.0/33"]
    assert swarm_firewall_not_addresses(members) == ["node1", "300.1.1.1", "10.0.0.0/33"]


def test_port_numbers_by_protocol_accept_strings():
    ports = [*PORTS, {"port": "2377", "proto": "tcp"}]
    assert swarm_firewall_port_numbers(ports, "tcp") == [2377, 7946]
    assert swarm_firewall_port_numbers(ports, "udp") == [4789, 7946]


def test_ufw_rules_allow_each_member_then_deny_each_port():
    rules = swarm_firewall_ufw_rules(["192.0.2.2", "192.0.2.1"], PORTS[:2])
    assert rules == [
        {"rule": "allow", "src": "192.0.2.1", "port": 2377, "proto": "tcp"},
        {"rule": "allow", "src": "192.0.2.1", "port": 7946, "proto": "tcp"},
        {"rule": "allow", "src": "192.0.2.2", "port": 2377, "proto": "tcp"},
        {"rule": "allow", "src": "192.0.2.2", "port": 7946, "proto": "tcp"},
        {"rule": "deny", "src": "any", "port": 2377, "proto": "tcp"},
        {"rule": "deny", "src": "any", "port": 7946, "proto": "tcp"},
    ]


# As ufw 0.36 prints it (Debian 12).
UFW_SHOW_ADDED = """\
Added user rules (see 'ufw status' for running firewall):
ufw allow 22/tcp
ufw allow from 172.18.0.2 to any port 2377 proto tcp comment 'swarm_firewall'
ufw allow from 172.18.0.9 to any port 4789 proto udp comment 'swarm_firewall'
ufw allow from 10.1.0.0/16 to any port 2377 proto tcp comment 'mine'
ufw deny 2377/tcp comment 'swarm_firewall'
ufw deny 5000/udp comment 'swarm_firewall'
"""


def test_ufw_added_reads_only_the_rules_with_the_comment():
    assert swarm_firewall_ufw_added(UFW_SHOW_ADDED, "swarm_firewall") == [
        {"rule": "allow", "src": "172.18.0.2", "port": 2377, "proto": "tcp"},
        {"rule": "allow", "src": "172.18.0.9", "port": 4789, "proto": "udp"},
        {"rule": "deny", "src": "any", "port": 2377, "proto": "tcp"},
        {"rule": "deny", "src": "any", "port": 5000, "proto": "udp"},
    ]


def test_ufw_rules_read_back_compare_equal_to_the_wanted_ones():
    wanted = swarm_firewall_ufw_rules(["172.18.0.2"], [{"port": 2377, "proto": "tcp"}])
    stale = [r for r in swarm_firewall_ufw_added(UFW_SHOW_ADDED, "swarm_firewall") if r not in wanted]
    assert stale == [
        {"rule": "allow", "src": "172.18.0.9", "port": 4789, "proto": "udp"},
        {"rule": "deny", "src": "any", "port": 5000, "proto": "udp"},
    ]


def test_rich_rules_accept_members_before_dropping_everyone():
    rules = swarm_firewall_rich_rules(["fd00::1", "192.0.2.1"], [{"port": 2377, "proto": "tcp"}], -32000)
    assert rules == [
        'rule priority="-32000" family="ipv4" source address="192.0.2.1" port port="2377" protocol="tcp" accept',
        'rule priority="-32000" family="ipv6" source address="fd00::1" port port="2377" protocol="tcp" accept',
        'rule priority="-31999" port port="2377" protocol="tcp" drop',
    ]


# As firewalld 1.3 lists them (Debian 12).
RICH_RULES = """\
rule priority="-31999" port port="7946" protocol="tcp" drop
rule family="ipv4" source address="10.0.0.0/8" service name="ssh" accept
rule priority="-32000" family="ipv4" source address="172.18.0.3" port port="7946" protocol="tcp" accept
rule priority="-100" port port="80" protocol="tcp" drop
"""


def test_rich_rules_owned_are_those_at_the_roles_priorities():
    assert swarm_firewall_rich_rules_owned(RICH_RULES, -32000) == [
        'rule priority="-31999" port port="7946" protocol="tcp" drop',
        'rule priority="-32000" family="ipv4" source address="172.18.0.3" port port="7946" protocol="tcp" accept',
    ]
