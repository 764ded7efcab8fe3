#!/usr/bin/python
"""Write the stack's rendered files into their directory in one round trip."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gallery_stack_files
short_description: Create a directory and write files into it, each with the given content, in one module run
description:
  - The files are rendered on the controller (the C(template) lookup) and given here as text. The same work with
    builtin modules takes a C(file) task for the directory and a C(template) task per file, and each C(template) task
    is two round trips (a C(stat), then a C(file) for the mode) even when the file is already right.
  - A file is replaced, atomically, only when its content differs; modes are set when they differ.
  - Supports check mode and C(--diff).
options:
  path:
    description: The directory; created when missing, with its parents.
    type: path
    required: true
  files:
    description: File name (within O(path)) to content.
    type: dict
    required: true
  directory_mode:
    description: The directory's mode.
    type: raw
    required: true
  mode:
    description: Each file's mode.
    type: raw
    required: true
"""

RETURN = r"""
written:
  description: The files whose content was (or, in check mode, would be) written.
  type: list
  returned: always
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def _current(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(module, directory, dest, content):
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".ansible-tmp-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
    module.atomic_move(temporary, dest)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "files": {"type": "dict", "required": True},
            "directory_mode": {"type": "raw", "required": True},
            "mode": {"type": "raw", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    directory = params["path"]
    names = sorted(params["files"])
    unsafe = [name for name in names if not name or os.path.basename(name) != name or name in (".", "..")]
    if unsafe:
        module.fail_json(msg=f"files must be plain file names within path, not: {', '.join(unsafe)}")

    changed = False
    if not os.path.isdir(directory):
        changed = True
        if not module.check_mode:
            os.makedirs(directory)
    if os.path.isdir(directory):
        changed = module.set_mode_if_different(directory, params["directory_mode"], changed)

    written, diff = [], []
    for name in names:
        dest = os.path.join(directory, name)
        content = str(params["files"][name])
        before = _current(dest)
        if before != content:
            written.append(name)
            diff.append({"before_header": dest, "after_header": dest, "before": before or "", "after": content})
            if not module.check_mode:
                _write(module, directory, dest, content)
        if os.path.exists(dest):
            changed = module.set_mode_if_different(dest, params["mode"], changed)

    result = {"changed": changed or bool(written), "written": written}
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
