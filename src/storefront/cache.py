"""The Valkey client (one per worker) with short timeouts and a circuit breaker.

Valkey is an accelerator, never a hard dependency: when it is down or slow, every call fails fast
with `CacheUnavailable` for a short cool-down, and callers fall back (database, in-process limiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import msgspec
import valkey.asyncio as avalkey
from prometheus_client import Counter
from valkey.exceptions import ResponseError, ValkeyError

from storefront.valkey_pipe import PipelinedValkey

T = TypeVar("T")
TIMEOUT = 0.1
CONNECT_TIMEOUT = 0.25
POOL_WAIT = 0.25
MAX_CONNECTIONS = 32
COOL_DOWN = 1.0
LOG_INTERVAL = 30.0
FILL_LOCK_MS = 5000
FILL_WAIT_STEP = 0.02
FILL_WAIT_STEPS = 50
_ENCODER = msgspec.json.Encoder()
log = logging.getLogger("storefront.cache")
FAILURES = Counter("storefront_valkey_failures_total", "Valkey calls that failed or timed out")


class CacheUnavailable(Exception):
    """Valkey did not answer in time; the caller falls back."""


class Cache:
    """A thin wrapper that times out, trips a breaker, and logs outages at most once per interval."""

    def __init__(self, client: avalkey.Valkey, pipe: PipelinedValkey) -> None:
        self.client = client
        self.pipe = pipe
        self._down_until = 0.0
        self._logged_at = -LOG_INTERVAL
        self._error_logged_at = -LOG_INTERVAL

    @classmethod
    def connect(cls, url: str) -> Cache:
        """A lazily connecting client for `url` with short socket timeouts."""
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
        return cls(avalkey.Valkey(connection_pool=pool), PipelinedValkey(url, TIMEOUT, CONNECT_TIMEOUT))

    async def close(self) -> None:
        """Close the connection pool and the pipelined connection."""
        self.pipe.close()
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
        except ResponseError as exc:
            # Valkey answered, with an error: a bug to report, not an outage to ride out (no breaker).
            FAILURES.inc()
            now = time.monotonic()
            if now - self._error_logged_at >= LOG_INTERVAL:
                self._error_logged_at = now
                log.error("valkey command failed", extra={"error": repr(exc)})
            raise CacheUnavailable from exc
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


class _Envelope(msgspec.Struct, Generic[T], array_like=True):
    generation: int
    value: T


class CachedView(Generic[T]):
    """A shared, non-personal value (never keyed without the user if it were personal) cached in Valkey.

    Freshness: a generation counter that writes bump (`invalidate`); a cached value is only served
    while its generation is current, so a write is visible on the very next read, even if a slower
    fill stored an older value after the bump. Staleness is otherwise bounded by `ttl`.
    Single flight: one fill per process at a time, and a short Valkey lock so that only one worker
    or instance runs the query while the others wait briefly for its result.
    Valkey down: the loader runs directly (PostgreSQL answers, just slower).
    """

    def __init__(self, name: str, ttl: int, value_type: Any, generation: str) -> None:
        self.ttl = ttl
        self.value_key, self.lock_key = f"cache:{name}", f"cache:{name}:lock"
        self.gen_key = f"cache:gen:{generation}"
        self._decoder = msgspec.json.Decoder(_Envelope[value_type])  # type: ignore[valid-type]
        self._inflight: dict[int, asyncio.Task[T]] = {}

    async def get(self, cache: Cache, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or `load()`'s result (stored for the next readers)."""
        try:
            generation, value = await self._read(cache)
        except CacheUnavailable:
            return await load()
        if value is not None:
            return value
        # Keyed by generation: a reader after a write never joins a fill that started before it.
        task = self._inflight.get(generation)
        if task is None:
            task = self._inflight[generation] = asyncio.ensure_future(self._fill(cache, generation, load))
            task.add_done_callback(lambda _: self._inflight.pop(generation, None))
        return await asyncio.shield(task)

    async def _read(self, cache: Cache) -> tuple[int, T | None]:
        raw_gen, raw = await cache.call(lambda client: client.mget(self.gen_key, self.value_key))
        generation = int(raw_gen or 0)
        if raw is not None:
            envelope = self._decoder.decode(raw)
            if envelope.generation == generation:
                return generation, envelope.value
        return generation, None

    async def _fill(self, cache: Cache, generation: int, load: Callable[[], Awaitable[T]]) -> T:
        try:
            leader = await cache.call(lambda client: client.set(self.lock_key, b"1", nx=True, px=FILL_LOCK_MS))
            if not leader:
                for _ in range(FILL_WAIT_STEPS):
                    await asyncio.sleep(FILL_WAIT_STEP)
                    generation, value = await self._read(cache)
                    if value is not None:
                        return value
        except CacheUnavailable:
            return await load()
        value = await load()
        encoded = _ENCODER.encode(_Envelope(generation, value))
        with contextlib.suppress(CacheUnavailable):
            await cache.call(lambda client: client.set(self.value_key, encoded, ex=self.ttl))
            await cache.call(lambda client: client.delete(self.lock_key))
        return value


async def bump_generation(cache: Cache, generation: str) -> None:
    """Make every view on `generation` stale now (a write changed what they show)."""
    with contextlib.suppress(CacheUnavailable):
        await cache.call(lambda client: client.incr(f"cache:gen:{generation}"))
