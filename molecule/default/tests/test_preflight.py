"""preflight.yml against the running cluster: it passes, and a blocked port is named by its two ends."""

import re

from swarm_testing import RUNNER, changed, node, playbook

MANAGER = RUNNER.get_hosts("managers")[0]
# The release the scenario's nodes were built on (molecule.yml).
RELEASE = {"bookworm": "12", "trixie": "13"}[RUNNER.get_variables(MANAGER)["local_images_debian_suite"]]
WORKERS = RUNNER.get_hosts("workers")


def address(name):
    return [a for a in node(name).interface("eth0").addresses if ":" not in a][0]


def test_preflight_passes_on_the_cluster_and_changes_nothing():
    result = playbook("preflight.yml")
    assert result.returncode == 0, result.output[-3000:]
    assert set(changed(result.output).values()) == {0}
    assert re.search(rf"{MANAGER}: Debian {RELEASE}\S* x86_64, Python 3\.\d+, kernel", result.output)


def test_a_dropped_swarm_port_is_named_with_both_hosts():
    target = node(WORKERS[-1])
    rule = f"INPUT -p tcp --dport 7946 -s {address(MANAGER)} -j DROP"
    target.check_output(f"iptables -I {rule}")
    try:
        # Every node is an active member here: without the setting the probe is skipped.
        result = playbook("preflight.yml", "-e", "preflight_port_timeout=3", "-e", "preflight_check_ports_in_swarm=true")
    finally:
        target.check_output(f"iptables -D {rule}")
    assert result.returncode != 0
    expected = rf"{MANAGER} -> {WORKERS[-1]} \({re.escape(address(WORKERS[-1]))}\) 7946/tcp"
    assert re.search(expected, result.output), result.output[-3000:]
    assert set(changed(result.output).values()) == {0}
