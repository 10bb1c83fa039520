"""The outermost ASGI layer: request id, one access-log line and the request metrics per response.

It wraps the whole Litestar app, so it also sees the router's own 404 and 405, which ordinary
Litestar middleware never does.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram

from storefront.ratelimit import peer_address

access_log = logging.getLogger("storefront.access")
REQUESTS = Counter("litestar_requests_total", "Total requests", ["method", "path", "status_code", "app_name"])
LATENCY = Histogram(
    "litestar_request_duration_seconds",
    "Request duration, in seconds",
    ["method", "path", "status_code", "app_name"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
UNMATCHED = "<unmatched>"
_MAX_ID = 128


def sane_request_id(raw: bytes | None) -> str:
    """Echo a client's id when it is 1–128 visible ASCII characters; otherwise make a new one."""
    if raw and len(raw) <= _MAX_ID and all(0x21 <= byte <= 0x7E for byte in raw):
        return raw.decode("ascii")
    return uuid.uuid4().hex


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class RequestContext:
    """ASGI wrapper: sets `scope["request_id"]`, adds `X-Request-ID`, logs and counts every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = sane_request_id(_header(scope, b"x-request-id"))
        scope["request_id"] = request_id
        status = 500
        rid_header = (b"x-request-id", request_id.encode())

        async def send_with_context(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    @staticmethod
    def _record(scope: dict[str, Any], status: int, elapsed: float) -> None:
        route = scope.get("path_template") or UNMATCHED
        labels = (scope["method"], route, str(status), "storefront")
        REQUESTS.labels(*labels).inc()
        LATENCY.labels(*labels).observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "request_id": scope["request_id"],
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "user_id": scope.get("user_id"),
                    "client": peer_address(scope),
                },
            )
