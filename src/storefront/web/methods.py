"""HEAD and OPTIONS for every route (RFC 9110 §9.3.2, §9.3.7), answered from the app's routing table.

Litestar serves HEAD only where a handler declares it, and answers OPTIONS through the path's
guards (so a guarded path says 401) with an `Allow` that can miss methods. Here OPTIONS is a 204
listing every method the path has, and HEAD is a GET whose body is not sent.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.exceptions import HTTPException
from litestar.types import HTTPScope, Message, Send
from litestar.utils import normalize_path


class Methods:
    """What each path of `app` answers to, for the `Allow` header."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self._allow: dict[str, str] | None = None

    def _by_template(self) -> dict[str, str]:
        if self._allow is None:
            allow = {}
            for route in self.app.routes:
                methods = set(getattr(route, "methods", ())) | {"OPTIONS"}
                if "GET" in methods:
                    methods.add("HEAD")
                allow[route.path_format] = ", ".join(sorted(methods))
            self._allow = allow
        return self._allow

    def allow(self, path: str) -> str | None:
        """The `Allow` value for `path`; None when no route matches it (a 404 is due)."""
        try:
            *_, template = self.app.asgi_router.handle_routing(normalize_path(path), "OPTIONS")
        except HTTPException:
            return None
        return self._by_template().get(template)

    def preflight_allowed(self, scope: HTTPScope) -> bool | None:
        """For a CORS preflight (an OPTIONS with `Origin` and `Access-Control-Request-Method`) while
        CORS is on: whether its origin is allowed. None for anything else."""
        cors = self.app.cors_config
        if cors is None:
            return None
        origin = wanted = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                wanted = value
        if origin is None or wanted is None:
            return None
        return cors.is_origin_allowed(origin)


def without_body(send: Send) -> Send:
    """`send` for a HEAD answered as a GET: the headers (Content-Length included), no body bytes."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
