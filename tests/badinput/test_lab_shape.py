"""`make lab` with a shape: the values are checked before anything changes, the inventory it writes keeps
what was not given, and Redis's storage label stays on its node.

The inventory is written by the swarm_lab role's inventory.yml, as playbooks/lab.yml's first play runs it,
into a temporary directory; the lab network is one no container belongs to, so no node is created.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
NETWORK = "swarm-lab-shape-test"
FIRST_PLAY = [{
    "hosts": "localhost", "connection": "local", "gather_facts": False,
    "tasks": [{"name": "Write", "ansible.builtin.include_role": {"name": "swarm_lab", "tasks_from": "inventory"}}],
}]
LAB_1_2 = {"all": {"vars": {"swarm_lab_flavour": "pwd", "swarm_lab_preinit": False}, "children": {"swarm": {"children": {
    "managers": {"hosts": {"node1": None}},
    "workers": {"hosts": {"node2": {"docker_swarm_node_labels": {"storage": "true"}}, "node3": None}},
}}}}}


def write(tmp_path, existing, **shape):
    """Run the inventory writer on the lab directory tmp_path/lab (holding `existing`, if any) with the shape given
    as make would pass it; returns (exit status, output, the inventory file's content or None)."""
    lab = tmp_path / "lab"
    lab.mkdir(exist_ok=True)
    if existing is not None:
        (lab / "hosts.yml").write_text(yaml.safe_dump(existing))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(FIRST_PLAY))
    extra = [argument for name, value in shape.items() for argument in ("-e", f"swarm_lab_{name}={value}")]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(lab), str(tmp_path / "play.yml"),
         "-e", f"swarm_lab_network={NETWORK}", *extra,
         *(["-e", "swarm_lab_write_inventory=true"] if shape else [])],
        capture_output=True, text=True, env=env, cwd=PROJECT, check=False, timeout=300)
    written = lab / "hosts.yml"
    return (result.returncode, re.sub(r"\s+", " ", result.stdout + result.stderr),
            yaml.safe_load(written.read_text()) if written.exists() else None)


def groups(inventory):
    return {name: group["hosts"] for name, group in inventory["all"]["children"]["swarm"]["children"].items()}


def labelled(inventory):
    return sorted(host for hosts in groups(inventory).values() for host, hostvars in hosts.items()
                  if (hostvars or {}).get("docker_swarm_node_labels", {}).get("storage") == "true")


def test_a_new_shape_keeps_the_storage_label_on_its_node(tmp_path):
    returncode, output, written = write(tmp_path, LAB_1_2, managers=3, workers=2)
    assert returncode == 0, output[-2000:]
    assert list(groups(written)["managers"]) == ["node1", "node2", "node3"]
    assert list(groups(written)["workers"]) == ["node4", "node5"]
    # node2 holds Redis's data: a manager now, still the one node labelled.
    assert labelled(written) == ["node2"]


def test_what_is_not_given_stays_as_the_inventory_has_it(tmp_path):
    returncode, output, written = write(tmp_path, LAB_1_2, workers=3)
    assert returncode == 0, output[-2000:]
    assert list(groups(written)["managers"]) == ["node1"]
    assert list(groups(written)["workers"]) == ["node2", "node3", "node4"]
    assert written["all"]["vars"]["swarm_lab_flavour"] == "pwd"
    assert labelled(written) == ["node2"]


@pytest.mark.parametrize("shape, storage", [({}, "node2"), ({"workers": 0}, "node1"), ({"managers": 3}, "node4")])
def test_a_first_inventory_labels_the_first_worker_else_node1(tmp_path, shape, storage):
    returncode, output, written = write(tmp_path, None, **shape)
    assert returncode == 0, output[-2000:]
    assert labelled(written) == [storage]


@pytest.mark.parametrize("shape, expected", [
    ({"managers": "two"}, "MANAGERS=two is not a number of managers: the lab needs 1 or more."),
    ({"managers": 0}, "MANAGERS=0 is not a number of managers: the lab needs 1 or more."),
    ({"workers": -1}, r"WORKERS=-1 is not a number of workers \(0 or more\)."),
    ({"managers": 30, "workers": 2}, "MANAGERS \\+ WORKERS is 32 nodes: the lab takes 12 at most."),
    ({"flavour": "vms"}, "FLAVOUR=vms is not a flavour: vm or pwd."),
    ({"flavour": "vm", "preinit": "true"}, r"A swarm formed before site.yml \(SWARM=init\) needs nodes that come with "
                                           r"Docker: FLAVOUR=pwd, not vm."),
])
def test_a_bad_shape_is_refused_and_the_inventory_left_as_it_was(tmp_path, shape, expected):
    returncode, output, written = write(tmp_path, LAB_1_2, **shape)
    assert returncode != 0
    assert re.search(expected, output), output[-2000:]
    assert "Nothing was changed." in output
    assert written == LAB_1_2


@pytest.mark.parametrize("arguments, expected", [
    (["FLAVOR=pwd"], "Unknown variable(s): FLAVOR."),
    (["MANGERS=3", "WORKERS=2"], "Unknown variable(s): MANGERS."),
    (["SWARM=yes"], "SWARM=yes: init (form the swarm before site.yml, FLAVOUR=pwd only) or none"),
])
def test_make_refuses_a_variable_it_does_not_read(arguments, expected):
    result = subprocess.run(["make", "--dry-run", "lab", *arguments], capture_output=True, text=True, cwd=PROJECT,
                            check=False)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
