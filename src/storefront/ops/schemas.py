"""Response shapes of the ops endpoints."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from storefront.web.schemas import ResponseStruct


class CheckState(StrEnum):
    """One check: the service answered (`ok`) or did not (`down`)."""

    OK = "ok"
    DOWN = "down"


class Liveness(ResponseStruct):
    """The process is up; no dependency was touched."""

    status: Literal["ok"]


class Checks(ResponseStruct):
    """State of each backing service, and of the worker's background loops (`down` when one has
    been silent past its bound)."""

    database: CheckState
    cache: CheckState
    loops: CheckState


class ReadinessState(StrEnum):
    """The instance's readiness (see `Readiness`)."""

    OK = "ok"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"
    DRAINING = "draining"


class Readiness(ResponseStruct):
    """`ok` (all up), `degraded` (Valkey down or a background loop stuck, still serving),
    `unavailable` (PostgreSQL down) or
    `draining` (stopping: finishing its work, taking no more)."""

    status: ReadinessState
    checks: Checks
