"""docs/course.md, typed as a student would, on the scenario's PWD-like nodes.

Every fenced block `sh on <targets>` of the page runs in order: a node's
block inside that node (`docker exec NODE sh -c BLOCK`, what a shell opened
with `docker exec -it NODE bash` runs), a host block as the command below that
stands for it on this scenario. The output must match the block's `expect`
comment; a block with a `repeat: SECONDS` comment is one the student runs
again until it shows that (the swarm converges in the background), and so
does the test, for up to SECONDS. This file runs last in the scenario: the
course ends with `make lab-down`.
"""

import os
import re
import subprocess
import time

import pytest

from swarm_testing import INVENTORY, PROJECT, RUNNER

COURSE = PROJECT / "docs" / "course.md"
BLOCK = re.compile(
    r"^```sh on (?P<targets>[^\n]+)\n(?P<body>.*?)^```\n(?P<notes>(?:<!-- [^\n]* -->\n)*)", re.M | re.S)

# The scenario's inventory and network stand for the lab's; its nodes were
# formed by hand (swarm_lab_preinit) only for the converge, not in the course.
LAB = ["ansible-playbook", "-i", INVENTORY, str(PROJECT / "playbooks" / "lab.yml"),
       "-e", f"swarm_lab_inventory_file={INVENTORY}", "-e", "swarm_lab_network=molecule-pwd",
       "-e", "swarm_lab_preinit=false"]
HOST_COMMANDS = {
    "make lab FLAVOUR=pwd": LAB,
    "make lab": LAB,
    "make lab-down": ["ansible-playbook", "-i", INVENTORY, str(PROJECT / "playbooks" / "lab-nodes.yml"),
                      "-e", "swarm_lab_state=absent", "-e", "swarm_lab_network=molecule-pwd"],
}


def container(name):
    return RUNNER.get_variables(name).get("ansible_host", name)


def steps():
    text = COURSE.read_text()
    found = []
    for match in BLOCK.finditer(text):
        notes = dict(re.findall(r"<!-- (\w+): (.*) -->", match["notes"]))
        assert "expect" in notes, f"no expect comment under: {match['body']!r}"
        title = text[:match.start()].rsplit("\n## ", 1)[-1].split("\n", 1)[0]
        found.append(pytest.param(match["targets"].split(), match["body"], notes, id=title))
    return found


def on_host(body):
    command = body.strip()
    shell = re.fullmatch(r"docker exec -it (node\d+) bash", command)
    if shell:
        # The prompt of the shell it opens (stdout: bash -i writes its job-control warnings to stderr).
        argv = ["docker", "exec", container(shell[1]), "bash", "-ic", 'echo "${PS1@P}"']
    else:
        assert command in HOST_COMMANDS, f"map {command!r} to what it does on this scenario"
        argv = HOST_COMMANDS[command]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, cwd=PROJECT,
                          check=False, timeout=1200)


def on_node(name, body):
    return subprocess.run(["docker", "exec", "-i", container(name), "sh", "-c", body], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False, timeout=600)


printed = {}


@pytest.mark.parametrize("targets, body, notes", steps())
def test_course_step(targets, body, notes):
    if notes.get("run") == "the join command node1 printed":
        body = printed["join"]
    for target in targets:
        deadline = time.monotonic() + int(notes.get("repeat", 0))
        while True:
            result = on_host(body) if target == "host" else on_node(target, body)
            output = (result.stdout + result.stderr).strip()
            if result.returncode == 0 and re.search(notes["expect"], output, re.M) or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert result.returncode == 0, f"{target}: {body}\n{output[-3000:]}"
        assert re.search(notes["expect"], output, re.M), f"{target}: {notes['expect']!r} not in:\n{output[-3000:]}"
        join = re.search(r"docker swarm join --token \S+ \S+:2377", output)
        if join:
            printed["join"] = join[0]

