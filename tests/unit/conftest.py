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


def _run_module(role, module, **args):
    env = {**os.environ, "ANSIBLE_LIBRARY": str(ROOT / "roles" / role / "library"),
           "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    result = subprocess.run([str(Path(sys.executable).parent / "ansible"), "localhost", "-m", module,
                             "-a", json.dumps(args)], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def run_module():
    """run_module(role, module, **args): one of a role's modules run on this machine by the
    environment's ansible; returns its result."""
    return _run_module
