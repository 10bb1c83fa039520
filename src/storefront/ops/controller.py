"""`/health`, `/health/ready`, `/metrics` and the root aliases of the API documentation."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from litestar.serialization import encode_json

from storefront.errors import Unauthenticated
from storefront.ops.schemas import Checks, CheckState, Liveness, Readiness, ReadinessState
from storefront.platform.db import Database
from storefront.platform.drain import is_draining
from storefront.platform.valkey import ValkeyClient
from storefront.web.openapi import REDOC, response
from storefront.web.routes import get
from storefront.web.state import AppState, AppStateDep

DB_CHECK_TIMEOUT = 1.5
CACHE_CHECK_TIMEOUT = 0.5
_LIVE = Liveness(status="ok")


@get("/health", tags=["ops"], summary="Liveness", sync_to_thread=False)
def liveness() -> Liveness:
    """Answers 200 while the process runs; touches no dependency."""
    return _LIVE


async def _database_ok(db: Database) -> bool:
    async def probe() -> None:
        async with db.acquire() as connection:
            await connection.fetchval("SELECT 1")

    try:
        await asyncio.wait_for(probe(), DB_CHECK_TIMEOUT)
    except Exception:
        return False
    return True


async def _cache_ok(valkey: ValkeyClient) -> bool:
    try:
        return await asyncio.wait_for(valkey.ping(), CACHE_CHECK_TIMEOUT)
    except Exception:
        return False


@get(
    "/health/ready",
    tags=["ops"],
    summary="Readiness",
    responses={503: response(Readiness, "PostgreSQL is down, or stopping")},
)
async def readiness(app_state: AppStateDep) -> Response[Readiness]:
    """200 `ok` or `degraded` (Valkey down, or a background loop of this worker silent past its
    bound); 503 `unavailable` when PostgreSQL is down, `draining` once the instance has been asked to
    stop (it still finishes what it has). Within 2 s."""
    settings = app_state.settings
    database, cache = await asyncio.gather(_database_ok(app_state.db), _cache_ok(app_state.valkey))
    loops = not app_state.loops.stale()
    status = ReadinessState.OK if cache and loops else ReadinessState.DEGRADED
    if not database:
        status = ReadinessState.UNAVAILABLE
    if is_draining(settings.data_dir):
        status = ReadinessState.DRAINING
    body = Readiness(
        status=status,
        checks=Checks(database=_state(database), cache=_state(cache), loops=_state(loops)),
    )
    code = 200 if status in ("ok", "degraded") else 503
    return Response(body, status_code=code, headers={"Cache-Control": "no-store"})


def _state(ok: bool) -> CheckState:
    return CheckState.OK if ok else CheckState.DOWN


def metrics_token_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """When METRICS_TOKEN is set, `/metrics` requires `Authorization: Bearer <token>`."""
    token = AppState.of(connection).settings.metrics_token
    if token is None:
        return
    scheme, _sep, presented = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), token.encode()):
        raise Unauthenticated("A valid metrics token is required.")


class MetricsController(PrometheusController):
    """Prometheus text aggregated over every worker (the launcher sets PROMETHEUS_MULTIPROC_DIR)."""

    path = "/metrics"
    guards = [metrics_token_guard]
    include_in_schema = False


@get("/redoc", include_in_schema=False, media_type="text/html", sync_to_thread=False)
def redoc(request: Request[Any, Any, Any]) -> bytes:
    """ReDoc at the root, next to Swagger UI at /docs."""
    return REDOC.render(request, request.app.openapi_schema.to_schema())


@get(
    "/openapi.json",
    include_in_schema=False,
    media_type="application/vnd.oai.openapi+json",
    sync_to_thread=False,
)
def openapi_json(request: Request[Any, Any, Any]) -> bytes:
    """The OpenAPI 3.1 document at the root."""
    return encode_json(request.app.openapi_schema.to_schema())
