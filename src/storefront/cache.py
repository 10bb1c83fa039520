"""The Valkey client (one per worker) with short timeouts and a circuit breaker.

Valkey is an accelerator, never a hard dependency: when it is down or slow, every call fails fast
with `CacheUnavailable` for a short cool-down, and callers fall back (database, in-process limiter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import valkey.asyncio as avalkey
from prometheus_client import Counter
from valkey.exceptions import ValkeyError

T = TypeVar("T")
TIMEOUT = 0.1
COOL_DOWN = 1.0
LOG_INTERVAL = 30.0
log = logging.getLogger("storefront.cache")
FAILURES = Counter("storefront_valkey_failures_total", "Valkey calls that failed or timed out")


class CacheUnavailable(Exception):
    """Valkey did not answer in time; the caller falls back."""


class Cache:
    """A thin wrapper that times out, trips a breaker, and logs outages at most once per interval."""

    def __init__(self, client: avalkey.Valkey) -> None:
        self.client = client
        self._down_until = 0.0
        self._logged_at = -LOG_INTERVAL

    @classmethod
    def connect(cls, url: str) -> Cache:
        """A lazily connecting client for `url` with short socket timeouts."""
        client = avalkey.Valkey.from_url(
            url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            health_check_interval=0,
            max_connections=64,
        )
        return cls(client)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    @property
    def is_down(self) -> bool:
        """True while the breaker is open after a recent failure."""
        return time.monotonic() < self._down_until

    async def call(self, operation: Callable[[avalkey.Valkey], Awaitable[T]]) -> T:
        """Run `operation(client)`; raise CacheUnavailable when the breaker is open or the call fails."""
        if time.monotonic() < self._down_until:
            raise CacheUnavailable
        try:
            return await operation(self.client)
        except (ValkeyError, OSError, TimeoutError) as exc:
            self._trip(exc)
            raise CacheUnavailable from exc

    async def ping(self) -> bool:
        """True when Valkey answers PING now (ignores the breaker, resets it on success)."""
        try:
            await self.client.ping()
        except (ValkeyError, OSError, TimeoutError) as exc:
            self._trip(exc)
            return False
        self._down_until = 0.0
        return True

    def _trip(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + COOL_DOWN
        FAILURES.inc()
        if now - self._logged_at >= LOG_INTERVAL:
            self._logged_at = now
            log.warning("valkey unavailable, degrading", extra={"error": repr(exc)})
