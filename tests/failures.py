"""Print the failed tests of the Molecule scenarios' JUnit reports, briefly.

`make molecule` runs every scenario; a failed test's message is printed in
the middle of the scenario's output, thousands of lines before the end. CI
logs are read from the end: this prints, last, which test failed and why.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Lines of each failure's message to print: its first ones (which test, what
# was expected) and its last ones (what was seen).
HEAD, TAIL = 4, 12


def failures(report):
    for case in ET.parse(report).iter("testcase"):
        for problem in (*case.iter("failure"), *case.iter("error")):
            # classname is the test file as a dotted path from the root.
            name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name', '')}"
            yield name, (problem.get("message") or problem.text or "").strip()


def main(paths):
    found = [(Path(path).stem.removeprefix("junit-"), name, message)
             for path in paths if Path(path).exists() for name, message in failures(path)]
    if not found:
        return
    print(f"\n{len(found)} Molecule test(s) failed:")
    for scenario, name, message in found:
        lines = message.splitlines()
        if len(lines) > HEAD + TAIL:
            lines = [*lines[:HEAD], "...", *lines[-TAIL:]]
        print(f"- {scenario}: {name}")
        print("\n".join(f"    {line}" for line in lines))


if __name__ == "__main__":
    main(sys.argv[1:])
