"""Opaque keyset cursors over `(created_at DESC, id DESC)`."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from storefront.errors import ValidationFailed
from storefront.web.conventions import MAX_PAGE_SIZE

T = TypeVar("T")
PageLimit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"Page size (1-{MAX_PAGE_SIZE}).")]
Cursor = Annotated[str | None, QueryParameter(max_length=200, description="`next_cursor` of the previous page.")]
_Key = tuple[Annotated[datetime, msgspec.Meta(tz=True)], UUID]
_decoder = msgspec.json.Decoder(_Key)


def encode_cursor(created_at: datetime, id_: UUID) -> str:
    """The cursor that continues after the row `(created_at, id)`."""
    return base64.urlsafe_b64encode(msgspec.json.encode((created_at, id_))).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime | None, UUID | None]:
    """The `(created_at, id)` a cursor points after, `(None, None)` for the first page; bad → 422."""
    if cursor is None:
        return None, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, id_ = _decoder.decode(raw)
        # In UTC, as the database compares it: year 1 at +01:00 or 9999 at -01:00 has no UTC date.
        created_at = created_at.astimezone(UTC)
    except (binascii.Error, ValueError, OverflowError, msgspec.DecodeError):
        raise ValidationFailed.on("cursor", "is not a cursor this API issued") from None
    return created_at, id_


def page_of(rows: list[Any], limit: int, build: Any) -> tuple[list[Any], str | None]:
    """Split `limit + 1` fetched rows into the page's items and the next cursor (None on the last page)."""
    items = [build(row) for row in rows[:limit]]
    if len(rows) <= limit:
        return items, None
    last = rows[limit - 1]
    return items, encode_cursor(last["created_at"], last["id"])


def like_escape(text: str) -> str:
    """`text` with LIKE wildcards escaped, so a search matches it literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
