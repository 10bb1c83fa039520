"""Which breaking changes CHANGELOG.md acknowledges.

A change is acknowledged by a line of a `### Breaking` subsection of a version's section
(`## [Unreleased]` or `## [x.y.z] - date`) that holds its key in backticks, as `just openapi-check`
prints it: `` - `removed response field: GET /api/v1/items 200.items[].price` — why, and what to do``.
Fenced code blocks (the header's example) acknowledge nothing.
"""

from __future__ import annotations

import re

VERSION = re.compile(r"^## \[[^\]]+\]")
BREAKING = re.compile(r"^### Breaking\s*$")
QUOTED = re.compile(r"`([^`]+)`")


def acknowledged(text: str) -> set[str]:
    """The backticked keys on the lines of every version's `### Breaking` subsection."""
    keys: set[str] = set()
    in_version = in_breaking = fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("#"):
            if not line.startswith("###"):
                in_version = bool(VERSION.match(line))
            in_breaking = in_version and bool(BREAKING.match(line))
            continue
        if in_breaking:
            keys.update(key.strip() for key in QUOTED.findall(line))
    return keys
