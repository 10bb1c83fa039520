"""The composition root: `create_app()` wires the layers together, and nothing else does."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from storefront.accounts import emails
from storefront.accounts.controller import AuthController, UsersController
from storefront.accounts.links import purge_email_tokens
from storefront.accounts.security import bound_queues
from storefront.accounts.shortcuts import cached_me
from storefront.accounts.tokens import bearer_identity
from storefront.accounts.wiring import Accounts
from storefront.catalog.controller import ItemsController
from storefront.catalog.shortcuts import cached_item
from storefront.ops.controller import MetricsController, liveness, openapi_json, readiness, redoc
from storefront.ops.metrics import GAUGE_INTERVAL, refresh_gauges
from storefront.orders.controller import OrdersController, stats
from storefront.orders.idempotency import PURGE_FIRST_DELAY, PURGE_INTERVAL
from storefront.orders.idempotency import purge_expired as purge_expired_keys
from storefront.platform import tracing
from storefront.platform.db import Database
from storefront.platform.heap import freeze_startup_objects
from storefront.platform.invalidations import RECONNECT_MAX, Invalidations
from storefront.platform.jobs import Loop, Supervisor, every
from storefront.platform.logging import configure_logging
from storefront.platform.outbox import Delivery, purge_outbox, transport_for
from storefront.platform.project import version
from storefront.platform.ratelimit import RateLimiter
from storefront.platform.readcache import ReadCache
from storefront.platform.settings import Settings, load_settings
from storefront.platform.valkey import ValkeyClient
from storefront.web.body import StrictBodyPlugin, check_request
from storefront.web.client_ip import provide_client_ip
from storefront.web.conventions import COMPRESS_FROM_BYTES, MAX_BODY_BYTES
from storefront.web.edge import Edge
from storefront.web.openapi import docs_assets, finish_openapi, openapi_config
from storefront.web.problems import problem_response
from storefront.web.shortcuts import first_of
from storefront.web.state import AppState, constant
from storefront.web.tracing import TracedEdge, skip_litestar_opentelemetry

if TYPE_CHECKING:
    from storefront.platform.telemetry import Telemetry

log = logging.getLogger("storefront")
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
]
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "X-Request-ID",
    "Idempotent-Replayed",
    "traceresponse",
]


def build_state(settings: Settings) -> AppState:
    """The worker's resources, not yet connected (the lifespan opens them)."""
    valkey = ValkeyClient(settings.valkey_url or "")
    config = settings.cache
    cache = ReadCache(config.read_cache_max_entries, config.read_cache_max_mb * MIB, enabled=config.read_cache)
    # LISTEN needs a session: the direct URL, never a transaction pooler.
    listen_dsn = settings.direct_database_url
    channel = Invalidations(listen_dsn, cache, settings.db_timeout_seconds) if cache.enabled and listen_dsn else None
    return AppState(
        settings=settings,
        db=Database(settings),
        valkey=valkey,
        limiter=RateLimiter(valkey),
        loops=Supervisor(),
        cache=cache,
        invalidations=channel,
    )


def dependencies(state: AppState) -> dict[str, Provide]:
    """What handlers may name: `settings`, `db`, `valkey`, `auth` (token settings), `client_ip`,
    `accounts` (what the account handlers use, the account limits among it) and `app_state` (all of
    the worker's resources at once)."""
    settings = state.settings
    return {
        "app_state": constant(state),
        "settings": constant(settings),
        "db": constant(state.db),
        "valkey": constant(state.valkey),
        "auth": constant(settings.auth),
        "accounts": constant(Accounts.of(state)),
        "client_ip": provide_client_ip(settings.limits),
    }


HOUR = 3600.0
MIB = 1 << 20


def mail_delivery(state: AppState) -> Delivery | None:
    """The worker's outbox delivery loop, or None (a warning) when there is nothing to send with."""
    settings = state.settings
    transport = transport_for(settings.mail)
    if transport is None:
        log.warning("SMTP_URL is unset: mail waits in the outbox until a worker with a relay sends it")
        return None
    listen_dsn = settings.direct_database_url  # LISTEN needs a session: never through a transaction pooler
    assert listen_dsn, "DATABASE_URL is resolved by the launcher or the tests"
    return Delivery(state.db, settings.mail, emails.renderer(settings), transport, listen_dsn=listen_dsn)


def background_loops(state: AppState) -> list[Loop]:
    """What each worker runs besides requests, for as long as it runs (under supervision): the
    schedule, a row a job, each job a coroutine of its domain; then the mail delivery's loops."""
    db = state.db
    schedule = [
        every("worker-gauges", GAUGE_INTERVAL, lambda: refresh_gauges(db)),
        every(
            "idempotency-keys-purge",
            PURGE_INTERVAL,
            lambda: purge_expired_keys(db),
            first_delay=PURGE_FIRST_DELAY,
            what="purged expired idempotency keys",
        ),
        every("outbox-purge", HOUR, lambda: purge_outbox(db), first_delay=120.0, what="purged old outbox messages"),
        every(
            "email-tokens-purge",
            HOUR,
            lambda: purge_email_tokens(db),
            first_delay=150.0,
            what="purged expired email tokens",
        ),
    ]
    if state.invalidations is not None:
        schedule.append(
            Loop("read-cache-channel", RECONNECT_MAX + state.settings.db_timeout_seconds, state.invalidations.run)
        )
    delivery = mail_delivery(state)
    return schedule if delivery is None else [*schedule, *delivery.loops()]


def lifespan(state: AppState, telemetry: Telemetry | None) -> Any:
    """Open the pool, start tracing (when on) and the background tasks, and close everything when
    the worker stops, the spans still queued sent last."""

    @asynccontextmanager
    async def run(_: Litestar) -> AsyncIterator[None]:
        await state.db.open()
        tracing.active = telemetry
        state.loops.start(background_loops(state))
        freeze_startup_objects()
        try:
            yield
        finally:
            await state.loops.stop()
            await state.valkey.close()
            await state.db.close()
            if telemetry is not None:
                tracing.active = None
                telemetry.shutdown()

    return run


def api_router() -> Router:
    """Every `/api/v1` route."""
    return Router(
        "/api/v1",
        route_handlers=[AuthController, UsersController, ItemsController, OrdersController, stats],
    )


def cors(settings: Settings) -> CORSConfig | None:
    """CORS for CORS_ORIGINS, off when it is empty."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        allow_credentials=False,
        max_age=600,
    )


def create_app(settings: Settings | None = None) -> Edge:
    """Build the ASGI application for `settings` (default: read from the environment)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    bound_queues(settings.auth.password_hash_queue)
    state = build_state(settings)
    telemetry = tracing.tracer_for(settings.tracing)
    skip_litestar_opentelemetry()
    docs: list[ControllerRouterHandler] = [redoc, openapi_json, docs_assets()] if settings.docs_enabled else []
    metrics: list[ControllerRouterHandler] = [MetricsController] if settings.metrics_enabled else []
    app = Litestar(
        route_handlers=[liveness, readiness, *metrics, *docs, api_router()],
        dependencies=dependencies(state),
        lifespan=[lifespan(state, telemetry)],
        on_startup=[finish_openapi] if settings.docs_enabled else [],
        state=state.as_litestar_state(),
        exception_handlers={Exception: problem_response},
        plugins=[StrictBodyPlugin()],
        before_request=check_request,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=openapi_config(version()) if settings.docs_enabled else None,
        cors_config=cors(settings),
        compression_config=CompressionConfig(backend="gzip", minimum_size=COMPRESS_FROM_BYTES, gzip_compress_level=6),
        logging_config=None,
        debug=False,
    )
    identify = bearer_identity(settings.auth.secret_key.encode())
    # With tracing off the edge is the plain one: no span layer in the request path.
    edge: Callable[..., Edge] = Edge if telemetry is None else partial(TracedEdge, telemetry=telemetry)
    if state.invalidations is None:
        return edge(app, settings, state.limiter, identify)
    secret = settings.auth.secret_key.encode()
    shortcut = first_of([cached_item(state.cache), cached_me(state.cache, secret)])
    return edge(app, settings, state.limiter, identify, state.invalidations.settle, shortcut)
