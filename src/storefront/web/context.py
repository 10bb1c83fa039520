"""The outermost ASGI layer: request id, security headers, OPTIONS and HEAD, the general rate limit,
the body deadline, one access-log line and the request metrics per response.

It wraps the whole Litestar app, so it also sees the router's own 404 and 405, which ordinary
Litestar middleware never does, and a 429 costs no routing, no guard and no body parsing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import msgspec
from prometheus_client import Histogram

from storefront.errors import DomainError, Forbidden, RateLimited, RequestTimeout
from storefront.platform.addresses import Networks
from storefront.platform.logging import LineWriter, log_timestamp
from storefront.platform.ratelimit import LeasedLimit, Policy, RateLimiter
from storefront.platform.settings import Settings
from storefront.web.client_ip import client_ip, client_network
from storefront.web.conventions import PROBLEM_MEDIA_TYPE
from storefront.web.deadline import BodyDeadline
from storefront.web.methods import Methods, without_body
from storefront.web.problems import render_problem

Identify = Callable[[dict[str, Any]], str | None]
"""Given a request's scope, the signed-in user's id when its credentials are valid, else None."""

_observers: dict[tuple[str, str, int], Any] = {}
_lines = LineWriter()
LATENCY = Histogram(
    "litestar_request_duration_seconds",
    "Request duration, in seconds",
    ["method", "path", "status_code", "app_name"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
UNMATCHED = "<unmatched>"
NO_PROXIES = Networks()
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
EXEMPT_PREFIXES = ("/health", "/metrics", "/docs/assets")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOSNIFF = (b"x-content-type-options", b"nosniff")
DOCS_PATHS = ("/docs", "/redoc")
DOCS_PREFIXES = tuple(f"{page}/" for page in DOCS_PATHS)
# The documentation pages load only what Storefront serves, and no site may frame them.
DOCS_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
        b"frame-ancestors 'none'",
    ),
]
_MAX_ID = 128
_encoder = msgspec.json.Encoder()


def sane_request_id(raw: bytes | None) -> str:
    """Echo a client's id when it is 1-128 visible ASCII characters; otherwise make a new one
    (128 random bits: an id, not a secret, so no uuid4 system call per request)."""
    if raw and len(raw) <= _MAX_ID and all(0x21 <= byte <= 0x7E for byte in raw):
        return raw.decode("ascii")
    return f"{random.getrandbits(128):032x}"


def _is_docs(route: str | None) -> bool:
    """True for a route of the documentation pages. It is decided on the route Litestar matched, not
    on the raw path, which may spell it differently (`//docs`, `/docs/`, `/%64ocs`)."""
    return route is not None and (route in DOCS_PATHS or route.startswith(DOCS_PREFIXES))


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class RequestContext:
    """ASGI wrapper: `scope["request_id"]`, `X-Request-ID` and the security headers, OPTIONS and
    HEAD, the general limit, the body deadline, logging and metrics.

    It knows no domain: `identify` (handed in by the app) says who a request is from.
    """

    def __init__(self, app: Any, settings: Settings, limiter: RateLimiter, identify: Identify) -> None:
        self.app = app
        self.methods = Methods(app)
        self.identify = identify
        self.limits = settings.limits
        self.trusted = settings.limits.trusted_proxies
        self.body_timeout = settings.server.body_timeout_seconds
        self.log_requests = settings.log_level in ("DEBUG", "INFO")
        per_minute = settings.limits.per_minute
        self.general = LeasedLimit(limiter, Policy("general", per_minute, 60)) if per_minute else None
        self.policy_header = self.general.policy.header.encode() if self.general else b""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = sane_request_id(_header(scope, b"x-request-id"))
        scope["request_id"] = request_id
        extra = [(b"x-request-id", request_id.encode()), NOSNIFF]
        method = scope["method"]
        status = 500
        try:
            if method == "OPTIONS" and (status := await self._options(scope, send, request_id, extra)):
                return
            if method == "HEAD":
                scope["method"], send = "GET", without_body(send)
            if self.general is not None and self._limited(scope):
                decision = await self.general.take(self._client_key(scope))
                extra += [
                    (b"ratelimit-policy", self.policy_header),
                    (b"ratelimit", decision.header(self.general.policy).encode()),
                ]
                if not decision.allowed:
                    status = 429
                    await self._send_problem(send, RateLimited(decision.retry_after), request_id, extra)
                    return
            guard = None
            if scope["method"] in BODY_METHODS:
                guard = self._guard_body(scope, receive, send, request_id, extra)
                receive, send = guard.receive, guard.send

            async def send_with_context(message: dict[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    docs = DOCS_HEADERS if _is_docs(scope.get("path_template")) else []
                    message["headers"] = [*message.get("headers", ()), *extra, *docs]
                await send(message)

            await self.app(scope, receive, send_with_context)
            if guard is not None and guard.answered:
                status = RequestTimeout.status
        finally:
            scope["method"] = method
            self._record(scope, status or 500, time.perf_counter() - started)

    @staticmethod
    def _limited(scope: dict[str, Any]) -> bool:
        return scope["method"] != "OPTIONS" and not scope["path"].startswith(EXEMPT_PREFIXES)

    async def _options(
        self, scope: dict[str, Any], send: Any, request_id: str, extra: list[tuple[bytes, bytes]]
    ) -> int:
        """Answer an OPTIONS request here and return its status, or 0 to leave it to the app: a CORS
        preflight from an allowed origin (Litestar's CORS answers it) or a path no route matches."""
        preflight = self.methods.preflight_allowed(scope)
        if preflight is False:
            await self._send_problem(send, Forbidden("This origin may not call the API (CORS)."), request_id, extra)
            return Forbidden.status
        allow = self.methods.allow(scope["path"])
        if preflight or allow is None:
            return 0
        headers = [(b"allow", allow.encode()), (b"content-length", b"0"), *extra]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return 204

    def _client_key(self, scope: dict[str, Any]) -> str:
        """The signed-in user's id when the credentials are valid, else the client's network."""
        user_id = self.identify(scope)
        if user_id is not None:
            return f"rl:g:u:{user_id}"
        return f"rl:g:ip:{client_network(scope, self.limits)}"

    def _guard_body(
        self, scope: dict[str, Any], receive: Any, send: Any, request_id: str, extra: list[tuple[bytes, bytes]]
    ) -> BodyDeadline:
        async def answer_408() -> None:
            await self._send_problem(send, RequestTimeout(self.body_timeout), request_id, extra)

        return BodyDeadline(scope, receive, send, self.body_timeout, answer_408)

    @staticmethod
    async def _send_problem(send: Any, error: DomainError, request_id: str, extra: list[tuple[bytes, bytes]]) -> None:
        status, headers, body = render_problem(error, request_id)
        raw_headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: dict[str, Any], status: int, elapsed: float) -> None:
        route = scope.get("path_template") or UNMATCHED
        # Any token is a valid HTTP method: unknown ones share one label, so clients cannot grow the
        # metrics (or this dict) without bound.
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
        key = (method, route, status)
        observe = _observers.get(key)
        if observe is None:
            observe = _observers[key] = LATENCY.labels(method, route, str(status), "storefront").observe
        observe(elapsed)
        if self.log_requests:
            write_access_line(scope, route, status, elapsed, self.trusted)


class AccessLine(msgspec.Struct):
    """One access-log line: the same keys as every other JSON log line, plus the request's facts."""

    ts: str
    request_id: str
    method: str
    path: str
    route: str
    status: int
    duration_ms: float
    user_id: str | None
    client: str
    level: str = "INFO"
    logger: str = "storefront.access"
    msg: str = "request"


def write_access_line(
    scope: dict[str, Any], route: str, status: int, elapsed: float, trusted: Networks = NO_PROXIES
) -> None:
    """Queue the line for stdout: the `logging` machinery costs several times the encoding. Its
    `client` is the client's IP (behind a trusted proxy, the one the proxy forwarded for)."""
    line = AccessLine(
        ts=log_timestamp(time.time()),
        request_id=scope["request_id"],
        method=scope["method"],
        path=scope["path"],
        route=route,
        status=status,
        duration_ms=round(elapsed * 1000, 3),
        user_id=scope.get("user_id"),
        client=client_ip(scope, trusted),
    )
    _lines.write(_encoder.encode(line))
