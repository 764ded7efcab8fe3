"""What an ansible-playbook run's output says. Needs no Molecule environment,
so the benchmark (bench/benchmark.py) reads runs with it too."""

import re


def changed(output):
    """changed= of each host, from the run's PLAY RECAP."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}
