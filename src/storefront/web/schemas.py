"""Base Structs (one per direction) and the named constraint aliases every domain reuses."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

T = TypeVar("T")


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
