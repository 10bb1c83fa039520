"""Read models cached in Valkey behind a generation counter, filled once under load."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import msgspec

from storefront.platform.valkey import ValkeyClient, ValkeyUnavailable

T = TypeVar("T")
FILL_LOCK_MS = 5000
FILL_WAIT_STEP = 0.02
FILL_WAIT_STEPS = 50
_ENCODER = msgspec.json.Encoder()


class Generation:
    """A counter in Valkey that writes bump: every view on it is stale from the next read on."""

    def __init__(self, name: str) -> None:
        self.key = f"cache:gen:{name}"

    async def bump(self, valkey: ValkeyClient) -> None:
        """Make every view on this generation stale now (call it after the write has committed)."""
        with contextlib.suppress(ValkeyUnavailable):
            await valkey.incr(self.key)


class _Envelope(msgspec.Struct, Generic[T], array_like=True):
    generation: int
    value: T


class CachedView(Generic[T]):
    """A shared, non-personal value (never keyed without the user if it were personal) cached in Valkey.

    Freshness: a generation counter that writes bump; a cached value is only served while its
    generation is current, so a write is visible on the very next read, even if a slower fill stored
    an older value after the bump. Staleness is otherwise bounded by `ttl`.
    Single flight: one fill per process and generation at a time, and a short Valkey lock per
    generation so that only one worker or instance runs the query while the others wait briefly for
    its result; a write during a slow fill starts a fresh one at once instead of waiting on it.
    Valkey down: the loader runs directly (PostgreSQL answers, just slower).
    """

    def __init__(self, name: str, ttl: int, value_type: Any, generation: Generation) -> None:
        self.ttl = ttl
        self.value_key, self.lock_prefix = f"cache:{name}", f"cache:{name}:lock:"
        self.gen_key = generation.key
        self._decoder = msgspec.json.Decoder(_Envelope[value_type])  # type: ignore[valid-type]
        self._inflight: dict[int, asyncio.Task[T]] = {}

    async def get(self, valkey: ValkeyClient, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or `load()`'s result (stored for the next readers)."""
        try:
            generation, value = await self._read(valkey)
        except ValkeyUnavailable:
            return await load()
        if value is not None:
            return value
        # Keyed by generation: a reader after a write never joins a fill that started before it.
        task = self._inflight.get(generation)
        if task is None:
            task = self._inflight[generation] = asyncio.ensure_future(self._fill(valkey, generation, load))
            task.add_done_callback(lambda _: self._inflight.pop(generation, None))
        return await asyncio.shield(task)

    async def _read(self, valkey: ValkeyClient) -> tuple[int, T | None]:
        raw_gen, raw = await valkey.mget(self.gen_key, self.value_key)
        generation = int(raw_gen or 0)
        if raw is not None:
            envelope = self._decoder.decode(raw)
            if envelope.generation == generation:
                return generation, envelope.value
        return generation, None

    async def _fill(self, valkey: ValkeyClient, generation: int, load: Callable[[], Awaitable[T]]) -> T:
        lock = f"{self.lock_prefix}{generation}"
        try:
            if not await valkey.take_lock(lock, FILL_LOCK_MS):
                for _ in range(FILL_WAIT_STEPS):
                    await asyncio.sleep(FILL_WAIT_STEP)
                    current, value = await self._read(valkey)
                    if value is not None:
                        return value
                    if current != generation:
                        break  # a write since: the fill waited on is stale, load without it
        except ValkeyUnavailable:
            return await load()
        value = await load()
        encoded = _ENCODER.encode(_Envelope(generation, value))
        with contextlib.suppress(ValkeyUnavailable):
            await valkey.set(self.value_key, encoded, self.ttl)
            await valkey.delete(lock)
        return value
