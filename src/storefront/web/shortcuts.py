"""Answers the edge gives from memory, before Litestar: a cached item or the caller's own account.

A hot read whose answer the worker already holds (`platform/readcache.py`) needs no routing, no
parameter parsing, no guard and no response building — that is most of what such a request costs.
A shortcut answers only a plain GET whose full answer it knows to the byte: no query string, no
`Origin` (CORS decides those), no conditional header, a body too small to compress; anything else,
and every miss, goes on to Litestar, which answers (and fills the cache) as usual. A test holds each
shortcut's answer equal to Litestar's own, headers and all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from litestar.types import HTTPScope

from storefront.web.conventions import COMPRESS_FROM_BYTES, JSON

Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]
Shortcut = Callable[[HTTPScope], Answer | None]
"""Given a GET's scope, its whole answer when it is known from memory, else None (on to the app)."""

_HANDED_ON = frozenset({b"origin", b"if-none-match", b"if-modified-since", b"if-match", b"range"})
_CONTENT_TYPE = (b"content-type", JSON.encode())


def plain_get(scope: HTTPScope) -> bool:
    """No query string and none of the headers whose handling belongs to the app."""
    return not scope["query_string"] and not any(name in _HANDED_ON for name, _ in scope["headers"])


def json_answer(route: str, scope: HTTPScope, body: bytes, *headers: tuple[bytes, bytes]) -> Answer | None:
    """200 with `body` as Litestar would send it, the route's template noted for the metrics; None
    when the body is large enough that the app may compress it."""
    if len(body) >= COMPRESS_FROM_BYTES:
        return None
    scope["path_template"] = route
    return 200, [_CONTENT_TYPE, (b"content-length", str(len(body)).encode()), *headers], body


def first_of(shortcuts: Sequence[Shortcut]) -> Shortcut:
    """One shortcut trying each of `shortcuts` in turn."""

    def answer(scope: HTTPScope) -> Answer | None:
        for shortcut in shortcuts:
            found = shortcut(scope)
            if found is not None:
                return found
        return None

    return answer
