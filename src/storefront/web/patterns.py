"""Sentences for the patterns a value can fail: msgspec's message names the regex, which tells a
client nothing, so a constraint's pattern is registered here with the words a 422 says instead."""

from __future__ import annotations

from storefront.platform.msgspec_errors import failed_pattern

UNMATCHED = "has characters or a form this field does not allow"
_SENTENCES: dict[str, str] = {}


def explained(pattern: str, sentence: str) -> str:
    """Register what a value that fails `pattern` is told (`sentence`); returns `pattern`, for a `Meta`."""
    _SENTENCES[repr(pattern)[1:-1]] = sentence  # msgspec quotes the pattern as `repr` does
    return pattern


def readable(message: str) -> str:
    """msgspec's `message`, with the registered sentence (else `UNMATCHED`) in place of a regex."""
    pattern = failed_pattern(message)
    if pattern is None:
        return message
    return _SENTENCES.get(pattern, UNMATCHED)
