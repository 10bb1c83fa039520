"""The read cache's invalidation channel: a LISTEN connection of its own on the direct DSN (never
through a transaction pooler), and a heartbeat that proves it delivers.

PostgreSQL queues notifications at commit, in commit order, and a listening session receives them
in that order. So when this worker's own heartbeat — a `pg_notify` on a channel only it listens
to, sent on the same connection — comes back, every invalidation committed before it has been
received. The cache is healthy for HEARTBEAT_BOUND seconds after each heartbeat comes back; a lost
connection ends that at once; the first heartbeat after a gap empties the cache before it counts.

`settle()` is how a worker reads its own writes: after a write has committed, a heartbeat sent then
comes back only after the write's invalidations, so awaiting it before answering means this
worker's next read is fresh. (Other workers and instances receive the same invalidations at about
the same moment: docs/limits-and-caching.md gives the measured bound.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg

from storefront.platform.jobs import Beat, no_beat, raise_if_cancelled
from storefront.platform.readcache import ReadCache

log = logging.getLogger("storefront.readcache")
CHANNEL = "storefront_cache"  # what the triggers of migration 0006 publish on
HEARTBEAT_SECONDS = 0.25
HEARTBEAT_BOUND = 1.0  # silent longer than this: the cache is bypassed
RECONNECT_MAX = 5.0
SERVER_SETTINGS = {"application_name": "storefront-read-cache"}  # how an operator finds it in pg_stat_activity


class Invalidations:
    """`await channel.run()` until cancelled: listen, beat, reconnect with backoff."""

    def __init__(self, dsn: str, cache: ReadCache, timeout: float) -> None:
        self.dsn = dsn
        self.cache = cache
        self.timeout = timeout
        self._heartbeat = ""  # this connection's own channel (named after its backend pid)
        self._conn: asyncpg.Connection | None = None
        self._sent = 0  # heartbeats sent on the current connection
        self._received = 0
        self._arrived = asyncio.Event()  # set whenever a heartbeat comes back
        self._sending = asyncio.Lock()  # heartbeats share the connection: one at a time

    async def run(self, beat: Beat = no_beat) -> None:
        """Keep the channel up for as long as the worker runs."""
        backoff = 0.25
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, timeout=self.timeout, server_settings=SERVER_SETTINGS)
            except Exception as exc:
                log.warning("read-cache channel unavailable: reads go to the database", extra={"error": repr(exc)})
            else:
                backoff = 0.25
                await self._serve(conn, beat)
            self.cache.healthy_until = 0.0
            beat()
            raise_if_cancelled()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)

    async def settle(self) -> None:
        """Return once every invalidation committed before this call has reached the cache (or at
        once when the channel is not healthy: the cache is bypassed then, and emptied after)."""
        if not self.cache.healthy() or self._conn is None:
            return
        wanted = self._sent + 1  # a heartbeat sent after this call began: its NOTIFY commits after ours
        try:
            await asyncio.wait_for(self._until_back(wanted), HEARTBEAT_BOUND)
        except Exception:  # late, or the connection failed: a write's answer never fails for the cache
            self.cache.healthy_until = 0.0  # trust nothing cached until the channel is back

    async def _until_back(self, number: int) -> None:
        async with self._sending:
            if self._sent < number:
                await self._ping()
        while self._received < number:
            self._arrived.clear()
            await self._arrived.wait()

    async def _ping(self) -> None:
        """Send the next heartbeat (the caller holds `_sending`: one statement at a time)."""
        conn = self._conn
        if conn is None:
            raise TimeoutError("no channel")
        self._sent += 1
        await conn.execute("SELECT pg_notify($1, $2)", self._heartbeat, str(self._sent))

    async def _serve(self, conn: asyncpg.Connection, beat: Beat) -> None:
        """Listen and send heartbeats until the connection is lost or a heartbeat is late."""
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            self._heartbeat = f"{CHANNEL}_heartbeat_{conn.get_server_pid()}"
            self._sent = self._received = 0
            await asyncio.wait_for(conn.add_listener(CHANNEL, self._on_invalidation), self.timeout)
            await asyncio.wait_for(conn.add_listener(self._heartbeat, self._on_heartbeat), self.timeout)
            self._conn = conn
            while not lost.is_set():
                async with self._sending:
                    await asyncio.wait_for(self._ping(), HEARTBEAT_BOUND)
                beat()
                raise_if_cancelled()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), HEARTBEAT_SECONDS)
        except Exception as exc:
            log.warning("read-cache channel lost: reads go to the database", extra={"error": repr(exc)})
        finally:
            self._conn = None
            self.cache.healthy_until = 0.0
            conn.terminate()

    def _on_invalidation(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.cache.invalidate(payload)

    def _on_heartbeat(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        now = time.monotonic()
        if now >= self.cache.healthy_until:
            self.cache.reset()  # back after a gap (or the first time): what it missed is unknown
        self._received = max(self._received, int(payload))
        self.cache.healthy_until = now + HEARTBEAT_BOUND
        self._arrived.set()
