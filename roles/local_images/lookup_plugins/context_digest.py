"""Digest of a Docker build context, to tag images after what they are built from."""

import hashlib
import os
from fnmatch import fnmatchcase

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = r"""
name: context_digest
short_description: Digest of a Docker build context
description:
  - Hashes the relative path and content of every file in a build context,
    except those its .dockerignore excludes, together with the Dockerfile
    used and any extra strings (such as the base image). Two contexts with the
    same digest build the same image, so the digest makes a stable image tag.
options:
  _terms:
    description: Build context directories.
    required: true
  dockerfile:
    description: Dockerfile name, relative to the context.
    default: Dockerfile
  extra:
    description: Strings that also change the result (base image reference).
    type: list
    default: []
  length:
    description: Number of hex digits returned.
    type: int
    default: 12
"""


def _ignored(relpath, patterns):
    parts = relpath.split("/")
    # A pattern excludes a path or anything below it (node_modules, test/...).
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatchcase(prefix, pattern) for pattern in patterns for prefix in prefixes)


def context_digest(context, dockerfile="Dockerfile", extra=(), length=12):
    if not os.path.isdir(context):
        raise AnsibleLookupError(f"build context {context} is not a directory")
    if not os.path.isfile(os.path.join(context, dockerfile)):
        raise AnsibleLookupError(f"build context {context} has no {dockerfile}")
    patterns = []
    ignore_file = os.path.join(context, ".dockerignore")
    if os.path.isfile(ignore_file):
        with open(ignore_file, encoding="utf-8") as handle:
            patterns = [line.strip().strip("/") for line in handle if line.strip() and not line.startswith("#")]
    digest = hashlib.sha256()
    for value in [dockerfile, *extra]:
        digest.update(f"{value}\0".encode())
    for root, dirs, files in os.walk(context):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            relpath = os.path.relpath(path, context).replace(os.sep, "/")
            if _ignored(relpath, patterns) and relpath != dockerfile:
                continue
            digest.update(f"{relpath}\0".encode())
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()[:length]


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [
            context_digest(term, self.get_option("dockerfile"), self.get_option("extra"), self.get_option("length"))
            for term in terms
        ]
