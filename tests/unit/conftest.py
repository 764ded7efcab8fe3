import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Role-embedded plugins are plain modules; make them importable by name.
for plugins in [*ROOT.glob("roles/*/filter_plugins"), *ROOT.glob("roles/*/lookup_plugins")]:
    sys.path.insert(0, str(plugins))


def _run_module(role, module, *, check_mode=False, **args):
    env = {**os.environ, "ANSIBLE_LIBRARY": str(ROOT / "roles" / role / "library"),
           "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    # A play adds its roles' module_utils (a role's own, or its dependency swarm's) to the search
    # path; ad hoc, only this does.
    env["ANSIBLE_MODULE_UTILS"] = os.pathsep.join(str(path) for path in ROOT.glob("roles/*/module_utils"))
    # "-a {}" would reach the module as a raw parameter, which only command-like modules take.
    arguments = ["-a", json.dumps(args)] if args else []
    check = ["--check"] if check_mode else []
    result = subprocess.run([str(Path(sys.executable).parent / "ansible"), "localhost", "-m", module, *arguments, *check],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    # 2: the module failed, a result for the test to read; anything else is ansible's own error.
    if result.returncode not in (0, 2):
        raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def run_module():
    """run_module(role, module, check_mode=False, **args): one of a role's modules run on this
    machine by the environment's ansible (with --check if asked); returns its result, failed or not."""
    return _run_module
