"""Load a role's library/ or module_utils/ file, which are not importable packages."""

import importlib.util
import sys
from pathlib import Path

ROLES = Path(__file__).resolve().parents[2] / "roles"


def load(name, path):
    """The Python file at path (relative to roles/), imported as the module name."""
    spec = importlib.util.spec_from_file_location(name, ROLES / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
