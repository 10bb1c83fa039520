"""msgspec's validation messages taken apart: what is wrong, and where.

msgspec reports a validation error as text only, such as ``Expected `int`, got `str` - at
`$.lines[0].qty` ``, so this is the one place that knows the shape of that text; request bodies and
settings both read their field names from it.
"""

from __future__ import annotations

import re

_LOCATED = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<name>[^`]+)`$")
_PREFIXED = re.compile(r"^`(?P<name>[^`]+)`: (?P<message>.*)$", re.S)
_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.S)
INTEGER_GOT_FLOAT = "Expected `int`, got `float`"
"""Part of the message for a float where an integer is due (`5.0` as much as `5.5`)."""


def located(message: str) -> tuple[str, str]:
    """msgspec's `message` as (what is wrong, where): the path as `lines[0].qty`, "" at the top."""
    match = _LOCATED.match(message)
    assert match is not None  # every part of the pattern is optional: it matches any text
    return match["message"], (match["path"] or "").lstrip(".")


def field_problem(message: str) -> tuple[str, str]:
    """msgspec's `message` as (the field's path, what is wrong with it): `located`, with the field an
    unknown or missing field's message names, or a `` `name`: `` prefix names, added to the path."""
    text, path = located(message)
    for pattern in (_NAMED, _PREFIXED):
        named = pattern.match(text)
        if named:
            path = f"{path}.{named['name']}" if path else named["name"]
            text = named.groupdict().get("message") or text
            break
    return path, text


def failed_pattern(text: str) -> str | None:
    """The regex a string failed to match, as msgspec quotes it (as `repr` does, without the quotes),
    when `text` (what is wrong, from `located`) says that; else None."""
    expected = _PATTERN.match(text)
    return None if expected is None else expected["pattern"]
