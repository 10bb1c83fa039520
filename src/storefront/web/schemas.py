"""Base Structs (one per direction) and the named constraints every domain reuses.

Text rules (docs/design.md#resilience-contract): no text a client sends may hold NUL (PostgreSQL
cannot store it) or other control characters; one-line text (names, emails, search terms) also
refuses line breaks and the invisible format characters that disguise text (bidi overrides and
isolates, zero-width ones, BOM); multi-line text keeps tab and newline. The patterns mean the same
under Python's `re` (which enforces them) and ECMAScript (which the OpenAPI document speaks):
`$(?!\n)` closes the one gap, Python's `$` matching before a final newline.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

from storefront.web.patterns import explained

T = TypeVar("T")
CONTROLS = r"\x00-\x1f\x7f-\x9f"
INVISIBLE = r"\u200b-\u200d\u202a-\u202e\u2066-\u2069\ufeff"
FORBIDDEN_IN_LINE = CONTROLS + INVISIBLE
LINE = explained(rf"^[^{FORBIDDEN_IN_LINE}]*$(?!\n)", "must be one line, without control or invisible characters")
"""One line of text, possibly blank."""
NAME = explained(
    rf"^[^{FORBIDDEN_IN_LINE}]*[^\s{FORBIDDEN_IN_LINE}][^{FORBIDDEN_IN_LINE}]*$(?!\n)",
    "must be one line with a visible character, without control or invisible characters",
)
"""One line with at least one visible character (it is trimmed, and must not be blank)."""
TEXT = explained(
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$", "must not hold control characters other than tab and newline"
)
"""Multi-line text: tab, newline and carriage return allowed, other control characters not."""


class RequestStruct(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Policy for request bodies: unknown fields are rejected (422), types are strict."""


class ResponseStruct(msgspec.Struct, kw_only=True):
    """Policy for response bodies: every field is emitted, `null` included (no omit_defaults)."""


def or_none(value: T | msgspec.UnsetType) -> T | None:
    """A field absent from an update (UNSET) as None: the SQL's "leave this column as it is"."""
    return None if value is msgspec.UNSET else value  # type: ignore[return-value]


class Page(ResponseStruct, Generic[T]):
    """One page of a keyset-paginated list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None


Cents = Annotated[int, Meta(ge=0, le=1_000_000_000, description="An amount of money in cents.")]
Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]
