"""`create_app()`: the one place the application is wired together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State

from storefront.accounts.controller import AuthController, UsersController
from storefront.body import StrictBodyPlugin, check_body
from storefront.cache import Cache
from storefront.catalog.controller import ItemsController
from storefront.config import Settings, load_settings
from storefront.db import Database
from storefront.errors import problem_response
from storefront.logging import configure_logging
from storefront.middleware import RequestContext
from storefront.openapi import drop_framework_400s, openapi_config
from storefront.ops.controller import MetricsController, liveness, openapi_json, readiness, redoc
from storefront.ops.metrics import refresh_pool_gauges
from storefront.orders.controller import OrdersController
from storefront.orders.idempotency import purge_periodically
from storefront.orders.stats import stats
from storefront.ratelimit import AuthLimits, RateLimiter

VERSION = "0.1.0"
MAX_BODY_BYTES = 1_048_576
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
]


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open this worker's pool and Valkey client, run its background tasks, close all on shutdown."""
    settings: Settings = app.state.settings
    app.state.db = await Database.open(settings)
    app.state.cache = Cache.connect(settings.valkey_url or "")
    app.state.limiter = RateLimiter(app.state.cache)
    app.state.auth_limits = AuthLimits(app.state.limiter, settings.limits)
    tasks = [
        asyncio.create_task(refresh_pool_gauges(app.state.db)),
        asyncio.create_task(purge_periodically(app.state.db)),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.state.cache.close()
        await app.state.db.close()


def api_router() -> Router:
    """Every `/api/v1` route."""
    return Router(
        "/api/v1",
        route_handlers=[AuthController, UsersController, ItemsController, OrdersController, stats],
    )


def create_app(settings: Settings | None = None) -> Any:
    """Build the ASGI application for `settings` (default: read from the environment)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    docs = [redoc, openapi_json] if settings.docs_enabled else []
    app = Litestar(
        route_handlers=[liveness, readiness, MetricsController, *docs, api_router()],
        lifespan=[lifespan],
        on_startup=[drop_framework_400s] if settings.docs_enabled else [],
        state=State({"settings": settings}),
        exception_handlers={Exception: problem_response},
        plugins=[StrictBodyPlugin()],
        before_request=check_body,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=openapi_config(VERSION) if settings.docs_enabled else None,
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            allow_credentials=False,
            max_age=600,
        )
        if settings.cors_origins
        else None,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=6),
        logging_config=None,
        debug=False,
    )
    return RequestContext(app, settings)
