import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Role-embedded plugins are plain modules; make them importable by name.
for plugins in [*ROOT.glob("roles/*/filter_plugins"), *ROOT.glob("roles/*/lookup_plugins")]:
    sys.path.insert(0, str(plugins))
