"""The framework-free ceiling's HTTP vocabulary: its reply, its problem bodies and the request helpers
it shares with the framework floor (unit-tested against Storefront's own implementations)."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

import msgspec

from storefront.web.conventions import DEFAULT_PAGE_SIZE, JSON, MAX_PAGE_SIZE

_encode = msgspec.json.Encoder().encode
_cursor_key = msgspec.json.Encoder()


def encode_cursor(created_at: datetime, id_: uuid.UUID) -> str:
    """Storefront's opaque keyset cursor for the row `(created_at, id)`."""
    return base64.urlsafe_b64encode(_cursor_key.encode((created_at, id_))).decode().rstrip("=")


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def query_limit(query_string: str, default: int = DEFAULT_PAGE_SIZE) -> int | None:
    """`limit` from the query string (as Storefront's: 1-100, default 20); None when it is invalid."""
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if name == "limit":
            return int(value) if value.isdigit() and 1 <= int(value) <= MAX_PAGE_SIZE else None
    return default


def problem(status: int, slug: str, title: str, detail: str) -> bytes:
    """A minimal RFC 9457 body."""
    return _encode({"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail})


class Reply(msgspec.Struct):
    """What a handler answers: status, body, extra headers, and the caller (for the access log)."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = []
    user_id: str | None = None
    media_type: str = JSON


NOT_FOUND = Reply(404, problem(404, "not-found", "Not found", "No such resource."))
UNAUTHENTICATED = Reply(
    401,
    problem(401, "unauthenticated", "Unauthenticated", "A valid bearer access token is required."),
    [("www-authenticate", "Bearer")],
)
