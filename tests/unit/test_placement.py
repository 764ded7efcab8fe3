"""playbooks/tasks/placement.yml's mapping of services to nodes, run by ansible-playbook on this machine
with the reads' results given (docker_swarm_info and docker_node_info, as the drills register them)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def service(name):
    return {"ID": f"id-{name}", "Spec": {"Name": name}}


def task(name, node, state="running"):
    return {"ServiceID": f"id-{name}", "NodeID": node, "DesiredState": "running", "Status": {"State": state}}


def placement(tmp_path, services, tasks, nodes):
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "vars": {"drill_swarm": {"services": services, "tasks": tasks}, "drill_nodes": {"nodes": nodes}},
        "tasks": [
            {"name": "Map", "ansible.builtin.import_tasks": str(ROOT / "playbooks" / "tasks" / "placement.yml")},
            {"name": "Show", "ansible.builtin.debug": {"var": "drill_placement"}},
        ],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         "--start-at-task", "Map each service to its nodes", str(tmp_path / "play.yml")],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    shown = json.loads(result.stdout)["plays"][0]["tasks"][-1]["hosts"]["localhost"]
    return shown["drill_placement"]


def test_placement_names_the_nodes_running_each_service(tmp_path):
    nodes = [{"ID": "n1", "Description": {"Hostname": "node1"}}, {"ID": "n2", "Description": {"Hostname": "node2"}}]
    tasks = [task("web", "n2"), task("web", "n1"), task("web", "n2", state="starting"), task("web", "n2")]
    assert placement(tmp_path, [service("web"), service("db")], tasks, nodes) == {
        "db": [], "web": ["node1", "node2", "node2"]}
