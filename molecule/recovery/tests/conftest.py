"""The fixtures and the failure report every scenario shares live in molecule/resources/tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))

from failure_report import pytest_runtest_makereport  # noqa: E402,F401  (hook)
from swarm_testing import manager, node_urls  # noqa: E402,F401  (fixtures)
