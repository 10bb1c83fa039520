"""The typed app state: what each worker holds, built by `create_app`, opened by its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from storefront.platform.db import Database
from storefront.platform.invalidations import Invalidations
from storefront.platform.jobs import Supervisor
from storefront.platform.ratelimit import RateLimiter
from storefront.platform.readcache import ReadCache
from storefront.platform.settings import AuthSettings, Settings
from storefront.platform.valkey import ValkeyClient

_KEY = "storefront"
DatabaseDep = NamedDependency[Database]
ValkeyDep = NamedDependency[ValkeyClient]
AuthSettingsDep = NamedDependency[AuthSettings]
SettingsDep = NamedDependency[Settings]


@dataclass(frozen=True, slots=True)
class AppState:
    """The settings, the database pool, the Valkey client, the rate limiter, the read cache and its
    invalidation channel (None with READ_CACHE=off), and the background loops of one worker.

    Handlers receive these as dependencies (`db: DatabaseDep`, …; see `create_app`); `of()` is for
    the code that runs where dependencies do not reach: the guards.
    """

    settings: Settings
    db: Database
    valkey: ValkeyClient
    limiter: RateLimiter
    loops: Supervisor
    cache: ReadCache
    invalidations: Invalidations | None

    def as_litestar_state(self) -> State:
        """The `state=` for the Litestar app."""
        return State({_KEY: self})

    @staticmethod
    def of(connection: ASGIConnection[Any, Any, Any, Any]) -> AppState:
        """The state of the app serving `connection`."""
        return connection.app.state[_KEY]  # type: ignore[no-any-return]


AppStateDep = NamedDependency[AppState]
"""All of the worker's resources as one dependency, for a handler that needs several: Litestar
resolves two or more dependencies of one handler concurrently, in an anyio task group, which costs
several times what one does (the measured figure: docs/performance.md)."""


def constant(value: object) -> Provide:
    """A dependency that is always `value` (resolved once, then cached by Litestar)."""
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)
