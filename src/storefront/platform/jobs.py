"""Background loops that never die quietly.

Each loop (mail delivery, its LISTEN, the purges, the gauges) runs in a task of its own under a
supervisor task. Whatever ends it — an exception, a return, a cancel it did not ask for (one left
behind by a deadline) — the supervisor logs it and starts it again after a backoff (1 s, doubling
up to a minute). A loop calls `beat()` after every pass; a loop silent for longer than its bound
(twice its interval plus a minute) is stale: readiness says `degraded`, and the supervisor cancels
and restarts it. Each loop's last pass is the gauge `storefront_loop_last_pass_timestamp_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

log = logging.getLogger("storefront.loops")
STALE_GRACE = 60.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
STOP_GRACE = 5.0  # how long a stopping worker waits for a loop to end

LAST_PASS = Gauge(
    "storefront_loop_last_pass_timestamp_seconds",
    "Unix time of a background loop's last pass (the oldest over the live workers)",
    ["loop"],
    multiprocess_mode="livemin",
)
_LEFT_BEHIND: set[asyncio.Task[None]] = set()
RESTARTS = Counter("storefront_loop_restarts_total", "Background loops started again after they ended", ["loop"])

Beat = Callable[[], None]
"""What a loop calls after each pass."""


def no_beat() -> None:
    """The `beat` of a loop run on its own, outside a supervisor."""


@dataclass(eq=False)
class Loop:
    """One background loop: `body(beat)` runs until cancelled, calling `beat()` after each pass, at
    least once every `interval` seconds while it is healthy."""

    name: str
    interval: float
    body: Callable[[Beat], Coroutine[Any, Any, None]]
    last_pass: float = field(default=0.0, init=False)  # monotonic; the supervisor's start until a pass

    @property
    def bound(self) -> float:
        """Seconds without a pass after which the loop is stale."""
        return 2 * self.interval + STALE_GRACE

    def beat(self) -> None:
        """Record a pass."""
        self.last_pass = time.monotonic()
        LAST_PASS.labels(self.name).set(time.time())

    def silent_for(self) -> float:
        """Seconds since the last pass (or since the supervisor started it)."""
        return time.monotonic() - self.last_pass


class Supervisor:
    """The worker's background loops: `start(loops)` in the lifespan, `await stop()` at its end."""

    def __init__(self) -> None:
        self.loops: list[Loop] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, loops: list[Loop]) -> None:
        """Run each loop under supervision."""
        for loop in loops:
            loop.beat()  # a loop starts fresh; its first pass may come an interval later
            self.loops.append(loop)
            self._tasks.append(asyncio.create_task(_supervise(loop), name=f"supervise {loop.name}"))

    async def stop(self) -> None:
        """Cancel every loop and wait for them to end (a loop that will not end is left behind)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.loops.clear()

    def stale(self) -> list[str]:
        """The names of the loops silent past their bound."""
        return [loop.name for loop in self.loops if loop.silent_for() > loop.bound]


async def _supervise(loop: Loop) -> None:
    """Run `loop` for as long as the worker runs, starting it again whenever it ends."""
    backoff = BACKOFF_FIRST
    while True:
        started = time.monotonic()
        reason = await _run_once(loop)
        if time.monotonic() - started > loop.bound:
            backoff = BACKOFF_FIRST  # it had been running well: a new failure starts a new backoff
        log.error(
            "background loop ended; restarting",
            extra={"loop": loop.name, "reason": reason, "retry_in_seconds": backoff},
        )
        RESTARTS.labels(loop.name).inc()
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


async def _run_once(loop: Loop) -> str:
    """Run the loop in a task of its own (a cancel it leaves behind stays there) until it ends or
    goes silent past its bound; why it ended."""
    started = time.monotonic()
    task = asyncio.create_task(loop.body(loop.beat), name=loop.name)
    try:
        while True:
            done, _ = await asyncio.wait([task], timeout=loop.bound / 4)
            if done:
                return _outcome(task)
            silent = min(loop.silent_for(), time.monotonic() - started)
            if silent > loop.bound:
                await _end(task)
                return f"silent for {silent:.0f} s"
    except asyncio.CancelledError:
        await _end(task)
        raise


def _outcome(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "cancelled from within"
    exc = task.exception()
    if exc is None:
        return "returned"
    log.error("background loop failed", exc_info=exc, extra={"loop": task.get_name()})
    return repr(exc)


async def _end(task: asyncio.Task[None]) -> None:
    """Cancel a loop's task and give it a few seconds to end."""
    task.cancel()
    await asyncio.wait([task], timeout=STOP_GRACE)
    if not task.done():
        log.error("background loop ignores its cancel; left behind", extra={"loop": task.get_name()})
        _LEFT_BEHIND.add(task)  # held, or the event loop's weak reference would let it be collected
        task.add_done_callback(_LEFT_BEHIND.discard)
    elif not task.cancelled() and task.exception() is not None:
        log.warning("background loop failed while stopping", extra={"loop": task.get_name()})


def raise_if_cancelled() -> None:
    """Raise the cancellation of the current task if an await below swallowed it: on Python 3.11,
    `asyncio.wait_for` (used inside aiosmtplib and asyncpg, for instance) loses a cancel that lands as its inner
    await completes, and the task would then never stop (a worker's shutdown hung on the mail loop)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def every(
    name: str, interval: float, job: Callable[[], Awaitable[int]], *, first_delay: float = 0.0, what: str = ""
) -> Loop:
    """The loop of a scheduled job: `job()` `first_delay` s after start, then every `interval` s; a
    count it returns is logged as `what` (when not 0)."""
    return Loop(name, interval, lambda beat: periodically(what or name, job, interval, first_delay, beat))


async def periodically(
    what: str, job: Callable[[], Awaitable[int]], interval: float, first_delay: float, beat: Callable[[], None]
) -> None:
    """Run a background job `first_delay` s after start, then every `interval` s, for as long as
    the worker runs; a failure (the database may be down for a while) waits for the next turn.
    `beat()` after each turn, failed or not (see `Loop`)."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            count = await job()
        except Exception as exc:
            log.warning(f"{what} failed", extra={"error": repr(exc)})
        else:
            if count:
                log.info(what, extra={"count": count})
        beat()
        raise_if_cancelled()
        await asyncio.sleep(interval)
