"""The gallery role's network.yml, run by ansible-playbook on this machine for three local nodes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NODES = ["node1", "node2", "node3"]
# The tasks after the node reads: the nodes' IPVS is then what the inventory says.
AFTER_THE_READS = "Stop when the routing mesh is asked of nodes without IPVS"
PLAY = [{
    "name": "Choose the gallery's network mode",
    "hosts": "nodes",
    "gather_facts": False,
    "tasks": [
        {"name": "Choose", "ansible.builtin.import_role": {"name": "gallery", "tasks_from": "network"}},
        {"name": "Show the choice", "ansible.builtin.debug": {"var": "gallery_network"}, "run_once": True},
    ],
}]


def choose(tmp_path, setting, nodes=None):
    """Run network.yml with gallery_network_mode set; nodes maps each node to (IPVS shown, ip_vs loaded by the
    run), in place of the reads, which otherwise run on this machine. Returns the choice or the failure's message,
    and the results of every task by name."""
    host_vars = {name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                 for name in NODES}
    for name, (shown, loaded) in (nodes or {}).items():
        host_vars[name].update(gallery_node_ipvs={"stat": {"exists": shown}},
                               gallery_node_ipvs_load={"changed": loaded})
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"nodes": {"hosts": host_vars}}))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(PLAY, sort_keys=False))
    env = {**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles"), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
           "ANSIBLE_STDOUT_CALLBACK": "json"}
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
               "-e", f"gallery_network_mode={setting}", str(tmp_path / "play.yml")]
    if nodes is not None:
        command += ["--start-at-task", AFTER_THE_READS]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if result.returncode not in (0, 2):
        raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
    # Named as the role's tasks print: "gallery : NAME".
    tasks = {task["task"]["name"].split(" : ", 1)[-1]: task["hosts"]
             for task in json.loads(result.stdout)["plays"][0]["tasks"]}
    if "Show the choice" in tasks:
        return next(iter(tasks["Show the choice"].values()))["gallery_network"], tasks
    failed = [host for hosts in tasks.values() for host in hosts.values() if host.get("failed")]
    return failed[0]["msg"], tasks


ALL_IPVS = dict.fromkeys(NODES, (True, False))
NONE_IPVS = dict.fromkeys(NODES, (False, False))
ONE_MISSING = {**ALL_IPVS, "node2": (False, False)}
ONE_LOADED = {**ALL_IPVS, "node2": (False, True)}


@pytest.mark.parametrize("setting, nodes, chosen", [
    ("auto", ALL_IPVS, "mesh"),
    ("auto", NONE_IPVS, "dnsrr"),
    ("auto", ONE_MISSING, "dnsrr"),
    # ip_vs loaded by this run: the kernel has IPVS now.
    ("auto", ONE_LOADED, "mesh"),
    ("dnsrr", ALL_IPVS, "dnsrr"),
    ("mesh", ALL_IPVS, "mesh"),
    ("mesh", ONE_LOADED, "mesh"),
])
def test_the_mode_follows_the_setting_and_every_nodes_kernel(tmp_path, setting, nodes, chosen):
    assert choose(tmp_path, setting, nodes)[0] == chosen


def test_the_mesh_on_nodes_without_ipvs_is_refused_and_names_them(tmp_path):
    message, _ = choose(tmp_path, "mesh", {**NONE_IPVS, "node1": (True, False)})
    assert "gallery_network_mode is 'mesh', but these nodes have no IPVS in their kernel: node2, node3." in message
    assert "gallery_network_mode: dnsrr (or auto)" in message


def test_the_reads_find_what_this_kernel_shows(tmp_path):
    """The reads themselves, on this machine: where it cannot load ip_vs (a container), auto means dnsrr."""
    chosen, _ = choose(tmp_path, "auto")
    assert chosen == ("mesh" if Path("/proc/net/ip_vs").exists() else "dnsrr")


def test_dnsrr_skips_the_reads(tmp_path):
    chosen, tasks = choose(tmp_path, "dnsrr")
    assert chosen == "dnsrr"
    for name in ["Look for IPVS in each node's kernel", "Load ip_vs where the kernel does not show IPVS yet"]:
        assert all(host.get("skipped") for host in tasks[name].values()), name
