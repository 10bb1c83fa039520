"""The Valkey client (one per worker): the few commands Storefront uses, short timeouts, a breaker.

Valkey is an accelerator, never a hard dependency: when it is down or slow, every call fails fast
with `ValkeyUnavailable` for a short cool-down, and callers fall back (database, in-process limiter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from typing import Any

from prometheus_client import Counter, Gauge
from valkey.exceptions import NoScriptError, ResponseError, ValkeyError

from storefront.platform import tracing
from storefront.platform.logging import LogThrottle
from storefront.platform.resp import PipelinedValkey

TIMEOUT = 0.1
CONNECT_TIMEOUT = 0.25
COOL_DOWN = 1.0
LOG_INTERVAL = 30.0
log = logging.getLogger("storefront.valkey")
SPAN_ATTRIBUTES = {"db.system.name": "valkey"}  # a command's span: its name, never its keys or values
FAILURES = Counter("storefront_valkey_failures_total", "Valkey calls that failed or timed out")
BREAKER_OPEN = Gauge(
    "storefront_valkey_breaker_open",
    "Workers whose Valkey breaker is open: from a failed call until Valkey answers again",
    multiprocess_mode="livesum",
)


class ValkeyUnavailable(Exception):
    """Valkey did not answer in time (or answered with an error); the caller falls back."""


class ValkeyClient:
    """The worker's one Valkey connection (pipelined) behind a circuit breaker; outages and error
    replies are logged at most once per interval. It connects lazily, on the first command."""

    def __init__(self, url: str) -> None:
        self.connection = PipelinedValkey(url, TIMEOUT, CONNECT_TIMEOUT)
        self._down_until = 0.0
        self._tripped = False  # since the last failure, no call has succeeded
        BREAKER_OPEN.set(0)  # the worker's one client: it starts closed
        self._logs = LogThrottle(LOG_INTERVAL)

    async def close(self) -> None:
        """Close the connection (the worker is stopping)."""
        self.connection.close()

    async def _call(self, command: Awaitable[Any]) -> Any:
        """Await one command; ValkeyUnavailable when it fails (the breaker is checked by callers)."""
        try:
            reply = await command
        except NoScriptError:  # the script cache is empty (a fresh or restarted Valkey): not a failure
            raise
        except ResponseError as exc:
            # Valkey answered, with an error: a bug to report, not an outage to ride out (no breaker).
            FAILURES.inc()
            if (held := self._logs.admit("error")) is not None:
                log.error("valkey command failed", extra={"error": repr(exc), "suppressed": held})
            raise ValkeyUnavailable from exc
        except (ValkeyError, OSError, TimeoutError) as exc:
            self._trip(exc)
            raise ValkeyUnavailable from exc
        if self._tripped:
            self._tripped = False
            BREAKER_OPEN.set(0)
        return reply

    async def execute(self, *args: Any) -> Any:
        """Run one command (`"MGET", key, …`) and return its reply; ValkeyUnavailable while the
        breaker is open or when the command fails (NoScriptError passes through)."""
        if time.monotonic() < self._down_until:
            raise ValkeyUnavailable
        spans = tracing.active
        if spans is None:
            return await self._call(self.connection.execute(*args))
        with spans.client(args[0], SPAN_ATTRIBUTES):
            return await self._call(self.connection.execute(*args))

    def _trip(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + COOL_DOWN
        if not self._tripped:
            self._tripped = True
            BREAKER_OPEN.set(1)
        FAILURES.inc()
        if (held := self._logs.admit("down")) is not None:
            log.warning("valkey unavailable, degrading", extra={"error": repr(exc), "suppressed": held})

    async def run_script(self, script: str, sha: str, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA `sha`; a fresh or restarted Valkey that lacks the script gets it loaded, once."""
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except NoScriptError:
            await self.execute("SCRIPT", "LOAD", script)
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)

    async def mget(self, *keys: str) -> list[bytes | None]:
        """The values of `keys` (None where missing)."""
        return list(await self.execute("MGET", *keys))

    async def set(self, key: str, value: bytes, seconds: int) -> None:
        """SET with an expiry in seconds."""
        await self.execute("SET", key, value, "EX", seconds)

    async def take_lock(self, key: str, ms: int) -> bool:
        """SET NX PX: True when this call took the lock (it expires by itself after `ms`)."""
        return await self.execute("SET", key, b"1", "NX", "PX", ms) is not None

    async def incr(self, key: str) -> int:
        """INCR; the new value."""
        return int(await self.execute("INCR", key))

    async def delete(self, *keys: str) -> None:
        """DEL."""
        await self.execute("DEL", *keys)

    async def ping(self) -> bool:
        """True when Valkey answers PING now (ignores the breaker, resets it on success)."""
        try:
            await self._call(self.connection.execute("PING"))
        except ValkeyUnavailable:
            return False
        self._down_until = 0.0
        return True
