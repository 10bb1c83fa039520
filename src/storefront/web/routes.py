"""Route decorators: Litestar's, with guards called on the handler itself.

Litestar hands each guard `copy(handler)`, a shallow copy of an object of ~60 attributes made on
every request for every guard: 5 % of an authenticated read's CPU (`just bench --profile`, `me`,
~17 µs). Storefront's guards never change the handler they are given, so it gets the handler.
Everything else is Litestar's `HTTPRouteHandler`, configured exactly as `litestar.get` and its
siblings configure it (those classes cannot be subclassed without a deprecation warning).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler


class Handler(HTTPRouteHandler):
    """An HTTP route handler whose guards receive the handler, not a copy of it."""

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Run every guard in scope, in order; the first to raise refuses the request."""
        for guard in self.resolve_guards():
            await guard(connection, self)  # type: ignore[misc]


def get(path: str | None = None, **options: Any) -> Handler:
    """`litestar.get`, guards on the handler itself."""
    return Handler(path, http_method=HttpMethod.GET, **options)


def post(path: str | None = None, **options: Any) -> Handler:
    """`litestar.post` (201 unless `status_code` says otherwise), guards on the handler itself."""
    return Handler(path, http_method=HttpMethod.POST, **options)


def patch(path: str | None = None, **options: Any) -> Handler:
    """`litestar.patch`, guards on the handler itself."""
    return Handler(path, http_method=HttpMethod.PATCH, **options)


def delete(path: str | None = None, **options: Any) -> Handler:
    """`litestar.delete` (204 unless `status_code` says otherwise), guards on the handler itself."""
    return Handler(path, http_method=HttpMethod.DELETE, **options)
