"""The edge: the outermost ASGI layer, around the whole Litestar app. It gives every request its id
and every response the security headers, answers OPTIONS and HEAD, applies the general rate limit
and the body deadline, and records each response (`web/access.py`).

It wraps the whole Litestar app, so it also sees the router's own 404 and 405, which ordinary
Litestar middleware never does, and a 429 costs no routing, no guard and no body parsing.

It runs for every request: each step below is a plain call, and a request costs no more objects or
awaits than the steps need (one `Exchange`, whose bound `send` the app gets).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import HTTPScope, Message, Receive, Scope, Send

from storefront.errors import DomainError, Forbidden, RateLimited
from storefront.platform.leases import LeasedLimit
from storefront.platform.ratelimit import Policy, RateLimiter
from storefront.platform.settings import Settings
from storefront.web.access import Recorder
from storefront.web.client_ip import client_network
from storefront.web.conventions import BODY_METHODS, PROBLEM_MEDIA_TYPE
from storefront.web.deadline import BodyDeadline
from storefront.web.methods import Methods, without_body
from storefront.web.problems import render_problem
from storefront.web.shortcuts import Shortcut

Identify = Callable[[dict[str, Any]], str | None]
"""Given a request's scope, the signed-in user's id when its credentials are valid, else None."""
Settle = Callable[[], Awaitable[None]]
"""Returns once the read cache has received every invalidation committed before the call."""

HTTP: Final = ScopeType.HTTP
EXEMPT_PREFIXES = ("/health", "/metrics", "/docs/assets")
NOSNIFF = (b"x-content-type-options", b"nosniff")
DOCS_PATHS = ("/docs", "/redoc")
DOCS_PREFIXES = tuple(f"{page}/" for page in DOCS_PATHS)
# The documentation pages load only what Storefront serves, and no site may frame them.
DOCS_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
        b"frame-ancestors 'none'",
    ),
)
_MAX_ID = 128
Headers = list[tuple[bytes, bytes]]


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


def _header(scope: HTTPScope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _limited(scope: HTTPScope) -> bool:
    """Whether the general limit counts this request: not a preflight, not health, metrics or assets."""
    return scope["method"] != "OPTIONS" and not scope["path"].startswith(EXEMPT_PREFIXES)


class Exchange:
    """One request as the edge handles it: its id, the headers each of its responses gets, the
    status it was answered with, and where the answer goes."""

    __slots__ = ("_send", "extra", "request_id", "scope", "settle", "status")

    def __init__(self, scope: HTTPScope, send: Send, settle: Settle | None) -> None:
        self.scope, self._send, self.status, self.settle = scope, send, 500, settle
        self.request_id = request_id = sane_request_id(_header(scope, b"x-request-id"))
        # ASGI lets a layer add keys to the scope (the error handler reads this one); Litestar's
        # TypedDict of the scope names only Litestar's own.
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        self.extra: Headers = [(b"x-request-id", request_id.encode()), NOSNIFF]

    def as_get(self) -> None:
        """Serve a HEAD as the GET it asks about, without sending the body."""
        self.scope["method"] = "GET"
        self._send = without_body(self._send)

    async def send(self, message: Message) -> None:
        """The app's `send`: the response's start gets this layer's headers (and a documentation page
        its framing and content policy), and its status is noted."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            docs = DOCS_HEADERS if _is_docs(self.scope.get("path_template")) else ()
            message["headers"] = [*message.get("headers", ()), *self.extra, *docs]
            if self.settle is not None and self.status < 400:
                await self.settle()  # a write answered: its invalidations reached this worker first
        await self._send(message)

    async def respond(self, status: int, headers: Headers, body: bytes) -> None:
        """Answer here, without the app: `headers` and this layer's."""
        self.status = status
        await self._send({"type": "http.response.start", "status": status, "headers": [*headers, *self.extra]})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    async def answer(self, error: DomainError) -> None:
        """Answer here with `error` as problem+json."""
        status, headers, body = render_problem(error, self.request_id)
        raw_headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in headers.items()),
        ]
        await self.respond(status, raw_headers, body)


class Edge:
    """The outermost ASGI layer: `scope["request_id"]`, `X-Request-ID` and the security headers,
    OPTIONS and HEAD, the general limit, the body deadline, the metrics and the access log.

    It knows no domain: `identify` (handed in by the app) says who a request is from.
    """

    def __init__(
        self,
        app: Litestar,
        settings: Settings,
        limiter: RateLimiter,
        identify: Identify,
        settle: Settle | None = None,
        shortcut: Shortcut | None = None,
    ) -> None:
        self.app = app
        self.settle = settle  # after a write, before its answer (None: no read cache)
        self.shortcut = shortcut  # answers from memory (`web/shortcuts.py`; None: no read cache)
        self.methods = Methods(app)
        self.identify = identify
        self.limits = settings.limits
        self.body_timeout = settings.server.body_timeout_seconds
        self.recorder = Recorder(settings)
        per_minute = settings.limits.per_minute
        self.general = LeasedLimit(limiter, Policy("general", per_minute, 60)) if per_minute else None
        self.policy_header = self.general.policy.header.encode() if self.general else b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one connection's request; anything but HTTP (the lifespan too) goes straight on."""
        if scope["type"] != HTTP:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        exchange = self.exchange(scope, send)
        try:
            if method == "OPTIONS" and await self._answer_options(exchange):
                return
            if method == "HEAD":
                exchange.as_get()
            if self.general is not None and _limited(scope):
                decision = await self.general.take(self._client_key(scope))
                exchange.extra += [
                    (b"ratelimit-policy", self.policy_header),
                    (b"ratelimit", decision.header(self.general.policy).encode()),
                ]
                if not decision.allowed:
                    await exchange.answer(RateLimited(decision.retry_after))
                    return
            if self.shortcut is not None and scope["method"] == "GET" and (known := self.shortcut(scope)):
                await exchange.respond(*known)  # from memory: no routing, no guard, no response building
                return
            app_send: Send = exchange.send
            if scope["method"] in BODY_METHODS:
                guard = BodyDeadline(scope, receive, app_send, self.body_timeout, exchange.answer)
                receive, app_send = guard.receive, guard.send
            await self.app(scope, receive, app_send)
        finally:
            scope["method"] = method
            self.record(exchange, time.perf_counter() - started)

    def exchange(self, scope: HTTPScope, send: Send) -> Exchange:
        """The `Exchange` of one request (a subclass may add a response header)."""
        return Exchange(scope, send, self.settle if scope["method"] in BODY_METHODS else None)

    def record(self, exchange: Exchange, elapsed: float) -> None:
        """Record an answered request: its histogram observation and its access line."""
        self.recorder.record(exchange.scope, exchange.request_id, exchange.status, elapsed)

    async def _answer_options(self, exchange: Exchange) -> bool:
        """Answer an OPTIONS request here (True), or leave it to the app (False): a CORS preflight
        from an allowed origin (Litestar's CORS answers it) or a path no route matches."""
        preflight = self.methods.preflight_allowed(exchange.scope)
        if preflight is False:
            await exchange.answer(Forbidden("This origin may not call the API (CORS)."))
            return True
        allow = self.methods.allow(exchange.scope["path"])
        if preflight or allow is None:
            return False
        await exchange.respond(204, [(b"allow", allow.encode()), (b"content-length", b"0")], b"")
        return True

    def _client_key(self, scope: HTTPScope) -> str:
        """The signed-in user's id when the credentials are valid, else the client's network."""
        # `identify` is framework-free (the bench's ceiling calls it too): it takes the scope as the
        # plain dict it is at runtime, which Litestar's TypedDict is not declared to be.
        user_id = self.identify(scope)  # type: ignore[arg-type]
        if user_id is not None:
            return f"rl:g:u:{user_id}"
        return f"rl:g:ip:{client_network(scope, self.limits)}"
