"""A LISTEN connection of its own (never through a transaction pooler) that sets `wake` on every
notification of its channel, reconnecting with backoff whenever the connection is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from storefront.platform.jobs import Beat, no_beat, raise_if_cancelled

log = logging.getLogger("storefront.outbox")
BACKOFF_MAX = 30.0


class Listener:
    """`await listener.run()` until cancelled; whoever waits on `wake` polls meanwhile."""

    def __init__(self, dsn: str, channel: str, timeout: float, check_seconds: float) -> None:
        self.dsn = dsn
        self.channel = channel
        self.timeout = timeout
        self.check_seconds = check_seconds
        self.wake = asyncio.Event()

    @property
    def longest_wait(self) -> float:
        """The longest a healthy listener goes between two beats: its longest backoff and a connect."""
        return BACKOFF_MAX + self.timeout

    async def run(self, beat: Beat = no_beat) -> None:
        """Listen, reconnecting with backoff; `beat()` every `check_seconds` and every attempt."""
        backoff = 1.0
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
            except Exception as exc:
                log.warning("mail wake-up channel unavailable; polling", extra={"error": repr(exc)})
            else:
                backoff = 1.0
                await self._listen_on(conn, beat)
            beat()
            raise_if_cancelled()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _listen_on(self, conn: asyncpg.Connection, beat: Beat) -> None:
        """Wake on every notification until the connection is lost."""
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            # LISTEN has no statement deadline of its own: a frozen server must not hold it forever.
            await asyncio.wait_for(conn.add_listener(self.channel, lambda *_args: self.wake.set()), self.timeout)
            self.wake.set()  # whatever was queued while nobody listened
            while not lost.is_set():
                beat()
                raise_if_cancelled()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.check_seconds)
        except Exception as exc:
            log.warning("mail wake-up channel lost; polling", extra={"error": repr(exc)})
        finally:
            conn.terminate()  # no await here: nothing can hold up a cancellation
