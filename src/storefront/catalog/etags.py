"""Strong entity tags from a row `version`, and the RFC 9110 conditional-request comparisons."""

from __future__ import annotations

import re

# One entity-tag of a list: optional weakness prefix, then a quoted opaque tag.
_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag(version: int) -> str:
    """The strong ETag of a representation at `version`."""
    return f'"{version}"'


def _tags(header: str) -> list[tuple[bool, str]]:
    """(weak, opaque-tag) pairs of an If-Match / If-None-Match list; malformed members are dropped."""
    return [(bool(m[1]), m[2]) for m in _TAG.finditer(header)]


def if_match_versions(header: str | None) -> list[int] | None:
    """The versions a write may apply to: None when unconditional (no header or `*`).

    If-Match uses the strong comparison, so weak or foreign tags match nothing (→ 412).
    """
    if header is None or header.strip() == "*":
        return None
    return [int(tag) for weak, tag in _tags(header) if not weak and tag.isascii() and tag.isdigit() and len(tag) < 19]


def not_modified(header: str | None, version: int) -> bool:
    """True when If-None-Match matches the current tag (weak comparison, `*` matches any) → 304."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    current = str(version)
    return any(tag == current for _weak, tag in _tags(header))
