"""The Valkey client (one per worker): the few commands Storefront uses, short timeouts, a breaker.

Valkey is an accelerator, never a hard dependency: when it is down or slow, every call fails fast
with `ValkeyUnavailable` for a short cool-down, and callers fall back (database, in-process limiter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import valkey.asyncio as avalkey
from prometheus_client import Counter
from valkey.exceptions import NoScriptError, ResponseError, ValkeyError

from storefront.platform.resp import PipelinedValkey

T = TypeVar("T")
TIMEOUT = 0.1
CONNECT_TIMEOUT = 0.25
POOL_WAIT = 0.25
MAX_CONNECTIONS = 32
COOL_DOWN = 1.0
LOG_INTERVAL = 30.0
log = logging.getLogger("storefront.valkey")
FAILURES = Counter("storefront_valkey_failures_total", "Valkey calls that failed or timed out")


class ValkeyUnavailable(Exception):
    """Valkey did not answer in time (or answered with an error); the caller falls back."""


class ValkeyClient:
    """Valkey behind a circuit breaker; outages and error replies are logged at most once per interval."""

    def __init__(self, url: str) -> None:
        # A blocking pool: a burst beyond MAX_CONNECTIONS waits (up to POOL_WAIT) for a free connection
        # instead of opening one connection per in-flight request (or failing "Too many connections").
        # No CLIENT SETINFO on connect: one round trip per new connection instead of three.
        pool = avalkey.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            health_check_interval=0,
            lib_name=None,
            lib_version=None,
        )
        self.client = avalkey.Valkey(connection_pool=pool)
        self.pipe = PipelinedValkey(url, TIMEOUT, CONNECT_TIMEOUT)
        self._down_until = 0.0
        self._logged_at = -LOG_INTERVAL
        self._error_logged_at = -LOG_INTERVAL

    async def close(self) -> None:
        """Close the connections (the worker is stopping)."""
        self.pipe.close()
        await self.client.aclose()

    @property
    def is_down(self) -> bool:
        """True while the breaker is open after a recent failure."""
        return time.monotonic() < self._down_until

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one command; ValkeyUnavailable when the breaker is open or the command fails."""
        if time.monotonic() < self._down_until:
            raise ValkeyUnavailable
        try:
            return await operation()
        except ResponseError as exc:
            # Valkey answered, with an error: a bug to report, not an outage to ride out (no breaker).
            FAILURES.inc()
            now = time.monotonic()
            if now - self._error_logged_at >= LOG_INTERVAL:
                self._error_logged_at = now
                log.error("valkey command failed", extra={"error": repr(exc)})
            raise ValkeyUnavailable from exc
        except (ValkeyError, OSError, TimeoutError) as exc:
            self._trip(exc)
            raise ValkeyUnavailable from exc

    def _trip(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + COOL_DOWN
        FAILURES.inc()
        if now - self._logged_at >= LOG_INTERVAL:
            self._logged_at = now
            log.warning("valkey unavailable, degrading", extra={"error": repr(exc)})

    async def run_script(self, script: str, sha: str, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA `sha`; a fresh or restarted Valkey that lacks the script gets it loaded, once."""

        async def evalsha() -> Any:
            try:
                return await self.pipe.execute("EVALSHA", sha, len(keys), *keys, *args)
            except NoScriptError:
                await self.pipe.execute("SCRIPT", "LOAD", script)
                return await self.pipe.execute("EVALSHA", sha, len(keys), *keys, *args)

        return await self._call(evalsha)

    async def mget(self, *keys: str) -> list[bytes | None]:
        """The values of `keys` (None where missing)."""
        return await self._call(lambda: self.client.mget(*keys))  # type: ignore[no-any-return]

    async def set(self, key: str, value: bytes, seconds: int) -> None:
        """SET with an expiry in seconds."""
        await self._call(lambda: self.client.set(key, value, ex=seconds))

    async def take_lock(self, key: str, ms: int) -> bool:
        """SET NX PX: True when this call took the lock (it expires by itself after `ms`)."""
        return bool(await self._call(lambda: self.client.set(key, b"1", nx=True, px=ms)))

    async def incr(self, key: str) -> int:
        """INCR; the new value."""
        return int(await self._call(lambda: self.client.incr(key)))

    async def delete(self, *keys: str) -> None:
        """DEL."""
        await self._call(lambda: self.client.delete(*keys))

    async def ping(self) -> bool:
        """True when Valkey answers PING now (ignores the breaker, resets it on success)."""
        try:
            await self.client.ping()
        except (ValkeyError, OSError, TimeoutError) as exc:
            self._trip(exc)
            return False
        self._down_until = 0.0
        return True
