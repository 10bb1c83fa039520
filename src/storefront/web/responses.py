"""`Encoded`: a JSON response encoded by msgspec in the handler and sent as it is.

Litestar's `Response` is built per request (headers object, media type, encoding hooks) and then
turned into an `ASGIResponse`; for the hot reads that costs more than the query's client side. An
`Encoded[T]` is a `Response` to Litestar — so the OpenAPI document still says the body is a `T`,
and layered headers such as `Cache-Control` still apply — but it is its own ASGI app: two sends of
bytes prepared once.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Response

from storefront.web.conventions import JSON

T = TypeVar("T")
_encode = msgspec.json.Encoder().encode
_CONTENT_TYPE = (b"content-type", JSON.encode())


class Encoded(Response[T]):
    """`value` as JSON with `status` and `headers` (name → value), sent without response building."""

    __slots__ = ("_body", "_headers", "_status")

    def __init__(self, value: T, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._body = _encode(value)
        self._status = status
        self._headers = [_CONTENT_TYPE, (b"content-length", str(len(self._body)).encode())]
        if headers:
            self._headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    @classmethod
    def of_body(cls, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Encoded[Any]:
        """A response of JSON already encoded (a value a read cache keeps as bytes)."""
        response: Encoded[Any] = cls.__new__(cls)
        response._body, response._status = body, status
        response._headers = [_CONTENT_TYPE, (b"content-length", str(len(body)).encode())]
        if headers:
            response._headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        return response

    def to_asgi_response(  # type: ignore[override]
        self, app: Any, request: Any, *, headers: dict[str, str] | None = None, **options: Any
    ) -> Any:
        """Itself, with the route's own headers (e.g. `Cache-Control`) added. Route cookies and
        background tasks are not supported: refused loudly rather than dropped."""
        if options.get("cookies") or options.get("background"):
            raise TypeError("Encoded responses take no cookies or background tasks")
        if headers:
            self._headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        return self

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self._status, "headers": self._headers})
        await send({"type": "http.response.body", "body": self._body})
