"""Background loops never die quietly: a checkout deadline that fires mid-query leaves no cancel
behind, an event-loop stall longer than DB_TIMEOUT_SECONDS does not stop the mail, a loop that
ends in any way is restarted, and an idle delivery loop costs next to nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import pytest

from storefront import app
from storefront.platform import jobs as loops
from storefront.platform.db import Database, DatabaseTimeout
from storefront.platform.jobs import Beat, Loop, Supervisor
from storefront.platform.outbox import OutboxQueries
from tests.support.fixtures import MAIL_ENV
from tests.support.http import register
from tests.support.mail import Mailbox
from tests.support.services import Services, make_settings, serving

pytestmark = pytest.mark.anyio
TIMEOUT = 1  # DB_TIMEOUT_SECONDS in these tests


def _stall_the_loop(seconds: float) -> None:
    """Block this event loop for `seconds` as soon as the current task yields (a busy worker)."""
    asyncio.get_running_loop().call_soon(time.sleep, seconds)


async def _stalled_query(db: Database) -> None:
    async with db.transaction() as conn:
        _stall_the_loop(2 * TIMEOUT)
        await conn.fetchval("SELECT 1")


async def test_a_deadline_that_fires_mid_query_in_a_transaction_is_a_timeout_and_no_stray_cancel(
    services: Services, clean: None
) -> None:
    """Regression: the deadline terminated the connection (which detaches its pool proxy), the
    transaction's rollback then raised InterfaceError, and the checkout's exit asked the detached
    proxy `is_closed()`: a second InterfaceError, raised before the deadline's cancel was undone."""
    db = await Database(make_settings(services, DB_TIMEOUT_SECONDS=str(TIMEOUT))).open()
    task = asyncio.current_task()
    assert task is not None
    try:
        with pytest.raises(DatabaseTimeout):
            await _stalled_query(db)
        assert task.cancelling() == 0, "the deadline's cancel was left on the task"
        await asyncio.sleep(0)  # no cancellation pending either
        async with db.transaction() as conn:
            assert await conn.fetchval("SELECT 2") == 2
    finally:
        await db.close()


async def test_a_deadline_whose_cancel_was_swallowed_leaves_no_stray_cancel(services: Services, clean: None) -> None:
    """An await that loses the deadline's cancel (as `asyncio.wait_for` does on Python 3.11 when its
    inner await completes at the same moment) must not leave the task cancelling."""
    db = await Database(make_settings(services, DB_TIMEOUT_SECONDS=str(TIMEOUT))).open()
    task = asyncio.current_task()
    assert task is not None
    try:
        async with db.acquire() as conn:
            _stall_the_loop(2 * TIMEOUT)
            with contextlib.suppress(asyncio.CancelledError, asyncpg.InterfaceError):
                await conn.fetchval("SELECT 1")
        assert task.cancelling() == 0, "the deadline's cancel was left on the task"
        async with db.acquire() as conn:
            assert await conn.fetchval("SELECT 2") == 2
    finally:
        await db.close()


async def test_a_stall_longer_than_the_database_deadline_mid_pass_does_not_stop_the_mail(
    services: Services, mailbox: Mailbox, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's event loop blocks for 2 × DB_TIMEOUT_SECONDS while the delivery loop waits on
    its claim; a registration afterwards still gets its welcome message."""
    claim_due = OutboxQueries.claim_due
    stalled: list[float] = []

    async def claim_with_a_stall(conn: asyncpg.Connection, *args: Any) -> list[asyncpg.Record]:
        if not stalled:
            stalled.append(time.monotonic())
            _stall_the_loop(2 * TIMEOUT)
        return await claim_due(conn, *args)

    monkeypatch.setattr(OutboxQueries, "claim_due", claim_with_a_stall)
    async with serving(services, SMTP_URL=mailbox.url, DB_TIMEOUT_SECONDS=str(TIMEOUT), **MAIL_ENV) as client:
        deadline = time.monotonic() + 10
        while not stalled:
            assert time.monotonic() < deadline, "the delivery loop never claimed"
            await asyncio.sleep(0.05)
        await asyncio.sleep(3 * TIMEOUT)  # the stall, and the failed pass after it
        await register(client, "after-the-stall@example.com")
        await mailbox.wait_for(1, seconds=20)
    assert [m["To"] for m in mailbox.messages] == ["after-the-stall@example.com"]


async def test_an_idle_delivery_loop_costs_at_most_a_transaction_a_second(
    services: Services, mailbox: Mailbox, clean: None, executed_queries: list[str]
) -> None:
    """With nothing in the outbox, a worker queries when LISTEN wakes it or its poll interval passes
    (it used to read "nothing pending" as "due now" and poll every 50 ms: ~70 transactions a second)."""
    window = 4.0
    async with serving(services, SMTP_URL=mailbox.url, **MAIL_ENV):
        await asyncio.sleep(1.0)  # the first pass
        before = len(executed_queries)
        await asyncio.sleep(window)
        during = executed_queries[before:]
    statements = [q for q in during if q.strip().upper() not in ("BEGIN;", "BEGIN", "COMMIT;", "COMMIT")]
    assert len(statements) <= window, statements  # each statement is at most one transaction


@pytest.fixture
def quick_supervision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restart at once, and call a loop stale as soon as it misses twice its interval."""
    monkeypatch.setattr(loops, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(loops, "STALE_GRACE", 0.0)


async def test_a_loop_that_ends_in_any_way_is_restarted(quick_supervision: None) -> None:
    runs: list[str] = []

    async def ends(beat: Beat) -> None:
        beat()
        runs.append("run")
        match len(runs):
            case 1:
                raise asyncpg.InterfaceError("cannot call Connection.is_closed(): …")
            case 2:
                return
            case 3:
                raise asyncio.CancelledError  # a cancel left behind by someone else
        await asyncio.Event().wait()

    supervisor = Supervisor()
    supervisor.start([Loop("ends", 60.0, ends)])
    try:
        deadline = time.monotonic() + 10
        while len(runs) < 4:
            assert time.monotonic() < deadline, runs
            await asyncio.sleep(0.01)
        assert supervisor.stale() == []
    finally:
        await supervisor.stop()
    assert len(runs) == 4
    assert loops.RESTARTS.labels("ends")._value.get() == 3


async def test_a_silent_loop_is_stale_then_restarted(quick_supervision: None) -> None:
    runs: list[float] = []

    async def stuck(beat: Beat) -> None:
        runs.append(time.monotonic())
        await asyncio.Event().wait()  # never a pass

    supervisor = Supervisor()
    supervisor.start([Loop("stuck", 0.2, stuck)])
    try:
        assert supervisor.stale() == []
        await asyncio.sleep(0.6)
        assert supervisor.stale() == ["stuck"]
        deadline = time.monotonic() + 10
        while len(runs) < 2:
            assert time.monotonic() < deadline, "never restarted"
            await asyncio.sleep(0.01)
        assert supervisor.stale() == ["stuck"]  # restarting is not a pass
    finally:
        await supervisor.stop()


async def test_a_delivery_loop_that_dies_is_restarted_and_the_mail_arrives(
    services: Services, mailbox: Mailbox, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The death seen in production, forced: a cancel left on the loop's task ends it."""
    claim_due = OutboxQueries.claim_due
    killed: list[bool] = []

    async def claim_then_die(conn: asyncpg.Connection, *args: Any) -> list[asyncpg.Record]:
        if not killed:
            killed.append(True)
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
        return await claim_due(conn, *args)

    monkeypatch.setattr(OutboxQueries, "claim_due", claim_then_die)
    async with serving(services, SMTP_URL=mailbox.url, **MAIL_ENV) as client:
        await register(client, "after-the-death@example.com")
        await mailbox.wait_for(1, seconds=20)
        metrics = (await client.get("/metrics")).text
        ready = (await client.get("/health/ready")).json()
    assert killed
    assert 'storefront_loop_restarts_total{loop="mail-delivery"}' in metrics
    passes = [line for line in metrics.splitlines() if line.startswith("storefront_loop_last_pass_timestamp_seconds{")]
    assert {line.split('"')[1] for line in passes} >= {"mail-delivery", "mail-listen", "worker-gauges", "outbox-purge"}
    assert all(abs(float(line.split()[-1]) - time.time()) < 60 for line in passes)
    assert ready["checks"]["loops"] == "ok"


async def test_readiness_is_degraded_while_a_loop_is_silent(
    services: Services, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stuck_gauges(db: Database) -> int:
        await asyncio.Event().wait()
        return 0

    monkeypatch.setattr(loops, "STALE_GRACE", 0.0)  # the worker gauges' bound is then 4 s
    monkeypatch.setattr(app, "refresh_gauges", stuck_gauges)
    async with serving(services) as client:
        assert (await client.get("/health/ready")).json()["checks"]["loops"] == "ok"
        deadline = time.monotonic() + 20
        while (response := await client.get("/health/ready")).json()["status"] == "ok":
            assert time.monotonic() < deadline, "never degraded"
            await asyncio.sleep(0.2)
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "ok", "loops": "down"}}
