"""Response shapes of the ops endpoints."""

from __future__ import annotations

from typing import Literal

from storefront.web.schemas import ResponseStruct

CheckState = Literal["ok", "down"]


class Liveness(ResponseStruct):
    """The process is up; no dependency was touched."""

    status: Literal["ok"]


class Checks(ResponseStruct):
    """State of each backing service, and of the worker's background loops (`down` when one has
    been silent past its bound)."""

    database: CheckState
    cache: CheckState
    loops: CheckState


ReadinessState = Literal["ok", "degraded", "unavailable", "draining"]


class Readiness(ResponseStruct):
    """`ok` (all up), `degraded` (Valkey down or a background loop stuck, still serving),
    `unavailable` (PostgreSQL down) or
    `draining` (stopping: finishing its work, taking no more)."""

    status: ReadinessState
    checks: Checks
