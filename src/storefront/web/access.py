"""What every response leaves behind: its duration in the request histogram and, when the log level
is DEBUG or INFO, one JSON access line. The edge (`web/edge.py`) records each response here."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
from litestar.types import HTTPScope
from prometheus_client import Histogram

from storefront.platform import tracing
from storefront.platform.logging import LineWriter, log_timestamp
from storefront.platform.settings import Settings
from storefront.web.client_ip import client_ip

LATENCY = Histogram(
    "litestar_request_duration_seconds",
    "Request duration, in seconds",
    ["method", "path", "status_code", "app_name"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
UNMATCHED = "<unmatched>"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_observers: dict[tuple[str, str, int], Callable[[float], None]] = {}
_lines = LineWriter()
_encoder = msgspec.json.Encoder()


class AccessLine(msgspec.Struct, omit_defaults=True):
    """One access-log line: the same keys as every other JSON log line, plus the request's facts,
    and its trace when tracing is on (the keys are left out otherwise)."""

    ts: str
    request_id: str
    method: str
    path: str
    route: str
    status: int
    duration_ms: float
    user_id: str | None
    client: str
    level: str
    logger: str
    msg: str
    trace_id: str | None = None
    span_id: str | None = None


class Recorder:
    """Records each response: its duration by method, route and status, and its access line."""

    __slots__ = ("log_requests", "trusted")

    def __init__(self, settings: Settings) -> None:
        self.log_requests = settings.log_level in ("DEBUG", "INFO")
        self.trusted = settings.limits.trusted_proxies

    def record(self, scope: HTTPScope, request_id: str, status: int, elapsed: float) -> None:
        """Observe `elapsed` seconds in the histogram, then queue the access line if lines are due."""
        route = scope.get("path_template") or UNMATCHED
        # Any token is a valid HTTP method: unknown ones share one label, so clients cannot grow the
        # metrics (or the dict of observers) without bound.
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
        key = (method, route, status)
        observe = _observers.get(key)
        if observe is None:
            observe = _observers[key] = LATENCY.labels(method, route, str(status), "storefront").observe
        observe(elapsed)
        if self.log_requests:
            self._write_line(scope, request_id, route, status, elapsed)

    def _write_line(self, scope: HTTPScope, request_id: str, route: str, status: int, elapsed: float) -> None:
        """Queue the line for stdout: the `logging` machinery costs several times the encoding. Its
        `client` is the client's IP (behind a trusted proxy, the one the proxy forwarded for)."""
        line = AccessLine(
            ts=log_timestamp(time.time()),
            request_id=request_id,
            method=scope["method"],
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 3),
            # The auth guard's key: Litestar's TypedDict of the scope names only Litestar's own.
            user_id=scope.get("user_id"),  # type: ignore[arg-type]
            client=client_ip(scope, self.trusted),
            level="INFO",
            logger="storefront.access",
            msg="request",
            **tracing.log_ids(),
        )
        _lines.write(_encoder.encode(line))
