"""What the nodes looked like when a test failed, under the failure in pytest's output.

CI keeps the output of a run and nothing else, and the nodes are destroyed right
after: a failure that does not come back on a second run is only understood from
what is written here.
"""

import shlex

import pytest

from swarm_testing import RUNNER, STACK, node

# The engine's warnings and errors, without those the test nodes' engines repeat on
# every container start and that mean nothing here: no IPVS, no registry, a
# read-only /proc/sys.
NOISE = ["default vlan", "default_pvid", "IPv6", "ipv6", "ipv4.vs", "gc_thresh", "blkio", "registry-1", "nameservers"]
ENGINE_LOG = ("journalctl -u docker --no-pager -n 1000 -o short-precise | grep -E 'level=(warning|error)'"
              f" | grep -v {' '.join('-e ' + shlex.quote(n) for n in NOISE)} | tail -n 20")
# One shell per node, each command's output under its own line; `|| true` so
# that a command missing or failing does not hide the ones after it.
NODE_COMMANDS = [
    "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.ControlAvailable}}'",
    "docker ps --all --format '{{.Names}}  {{.Status}}  {{.Ports}}'",
    "ss -ltn",
    "iptables -t nat -S DOCKER",
    ENGINE_LOG,
]
MANAGER_COMMANDS = [
    "docker node ls",
    f"docker stack ps {STACK} --no-trunc --format '{{{{.Name}}}}  {{{{.Node}}}}  {{{{.CurrentState}}}}  {{{{.Error}}}}'",
]


def describe(name, commands):
    script = "; ".join(f"echo {shlex.quote('$ ' + c)}; {c} 2>&1 || true" for c in commands)
    result = node(name).run(script)
    return f"=== {name}\n{result.stdout}{result.stderr}"


def describe_nodes():
    try:
        managers = RUNNER.get_hosts("managers")
        parts = [describe(name, NODE_COMMANDS + (MANAGER_COMMANDS if name == managers[0] else []))
                 for name in RUNNER.get_hosts("all")]
    except Exception as error:  # noqa: BLE001  a report must not hide the failure it reports
        parts = [f"could not describe the nodes: {error!r}"]
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        report.sections.append(("the nodes when the test failed", describe_nodes()))
