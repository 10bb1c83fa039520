"""The outbox's delivery guarantees against a real SMTP server: relay down, two workers, a worker
killed mid-send, refusals, retries, metrics, MAIL_DISABLED, and the development sink."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx
import pytest

from storefront.platform.outbox import Delivery, retry_delay
from tests.support.fixtures import MAIL_ENV
from tests.support.http import register
from tests.support.mail import Mailbox
from tests.support.services import SRC, Services, make_settings, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio


async def _enqueue(services: Services, count: int) -> list[str]:
    """Queue `count` notices in one transaction (as a service would); their outbox ids."""
    rows = await sql(
        services.database_url,
        "INSERT INTO outbox (kind, recipient, payload) "
        "SELECT 'password_changed', 'bulk' || n || '@example.com', '{\"name\": \"Bulk\"}' "
        "FROM generate_series(1, $1) AS n RETURNING id",
        count,
    )
    return [str(row["id"]) for row in rows]


def _message_ids(mailbox: Mailbox) -> list[str]:
    return [str(m["Message-ID"]).strip("<>").split("@")[0] for m in mailbox.messages]


async def _until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_mail_waits_while_the_relay_is_down_and_arrives_once_when_it_is_back(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    mailbox.stop()
    for n in range(3):
        await register(mail_client, f"patient{n}@example.com")
    await asyncio.sleep(0.5)
    pending = await sql(services.database_url, "SELECT attempts, last_error FROM outbox WHERE sent_at IS NULL")
    assert len(pending) == 3
    assert all(row["attempts"] >= 2 and row["last_error"] for row in pending)
    assert (await mail_client.get("/health/ready")).json()["status"] == "ok"  # mail delay is not unreadiness

    mailbox.start()
    await mailbox.wait_for(3)
    await asyncio.sleep(0.5)
    ids = sorted(_message_ids(mailbox))
    assert ids == sorted(str(row["id"]) for row in await sql(services.database_url, "SELECT id FROM outbox"))
    sent = await sql(services.database_url, "SELECT 1 FROM outbox WHERE sent_at IS NOT NULL AND last_error IS NULL")
    assert len(sent) == 3


async def test_two_workers_send_each_message_once(services: Services, mailbox: Mailbox, clean: None) -> None:
    env = {"SMTP_URL": mailbox.url, **MAIL_ENV}
    async with serving(services, **env), serving(services, **env):
        ids = await _enqueue(services, 60)
        await mailbox.wait_for(60, seconds=20)
        await asyncio.sleep(0.5)
    assert sorted(_message_ids(mailbox)) == sorted(ids)


KILLABLE_WORKER = """
import asyncio, sys
from storefront.accounts import emails
from storefront.platform.db import Database
from storefront.platform.outbox import Delivery, transport_for
from storefront.platform.settings import load_settings

async def main():
    settings = load_settings(dotenv=None)
    db = await Database(settings).open()
    delivery = Delivery(db, settings.mail, emails.renderer(settings), transport_for(settings.mail),
                        listen_dsn=settings.database_url, lease_seconds=float(sys.argv[1]))
    await delivery.deliver_due()

asyncio.run(main())
"""


async def test_a_worker_killed_mid_send_leaves_the_message_to_another(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    (outbox_id,) = await _enqueue(services, 1)
    mailbox.stall()
    env = {**os.environ, "PYTHONPATH": SRC, "ENVIRONMENT": "test", "DATABASE_URL": services.database_url}
    env |= {"SECRET_KEY": "k" * 40, "SMTP_URL": mailbox.url, "DATA_DIR": tempfile.mkdtemp(), **MAIL_ENV}
    env |= {"SMTP_TIMEOUT_SECONDS": "1"}  # a lease of 3 s leaves one second to start a send
    worker = subprocess.Popen([sys.executable, "-c", KILLABLE_WORKER, "3.0"], env=env)  # noqa: ASYNC220
    try:
        assert await asyncio.to_thread(mailbox.recorder.stalled.wait, 20), "the worker never reached DATA"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    mailbox.recorder.release()
    (row,) = await sql(services.database_url, "SELECT attempts, sent_at FROM outbox")
    assert (row["attempts"], row["sent_at"]) == (1, None)

    async with serving(services, SMTP_URL=mailbox.url, **MAIL_ENV):  # a survivor picks it up when the lease ends
        await _until(lambda: _sent(services, outbox_id))
    assert set(_message_ids(mailbox)) == {outbox_id}  # possibly twice, always the same Message-ID
    assert 1 <= len(mailbox.messages) <= 2


async def _sent(services: Services, outbox_id: str) -> bool:
    rows = await sql(services.database_url, "SELECT 1 FROM outbox WHERE id = $1 AND sent_at IS NOT NULL", outbox_id)
    return bool(rows)


async def test_a_permanent_refusal_fails_at_once(services: Services, mailbox: Mailbox, clean: None) -> None:
    mailbox.recorder.reply = "550 5.1.1 no such mailbox"
    async with serving(services, SMTP_URL=mailbox.url, **MAIL_ENV):
        await _enqueue(services, 1)
        await _until(lambda: _failed(services))
    (row,) = await sql(services.database_url, "SELECT attempts, last_error FROM outbox")
    assert row["attempts"] == 1
    assert "550" in row["last_error"]


async def test_temporary_failures_retry_until_the_limit_then_fail(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    mailbox.recorder.reply = "451 4.3.0 try again later"
    async with serving(services, SMTP_URL=mailbox.url, MAIL_MAX_ATTEMPTS="3", **MAIL_ENV) as client:
        await _enqueue(services, 1)
        await _until(lambda: _failed(services))
        metrics = (await client.get("/metrics")).text
    (row,) = await sql(services.database_url, "SELECT attempts, last_error FROM outbox")
    assert row["attempts"] == 3
    assert "451" in row["last_error"]
    assert 'storefront_mail_failed_total{kind="password_changed"}' in metrics
    assert 'storefront_mail_retries_total{kind="password_changed"}' in metrics


async def test_a_kind_this_version_does_not_know_waits_for_a_worker_that_does(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    # A newer version's message, queued while a rolling deploy runs both: retried, not failed at once.
    await sql(
        services.database_url,
        "INSERT INTO outbox (kind, recipient, payload) VALUES ('from_a_newer_version', 'ada@example.com', '{}')",
    )
    async with serving(services, SMTP_URL=mailbox.url, MAIL_MAX_ATTEMPTS="3", **MAIL_ENV):
        await _until(lambda: _failed(services))
    (row,) = await sql(services.database_url, "SELECT attempts, last_error FROM outbox")
    assert row["attempts"] == 3
    assert "unknown kind 'from_a_newer_version'" in row["last_error"]
    assert mailbox.messages == []


async def _failed(services: Services) -> bool:
    return bool(await sql(services.database_url, "SELECT 1 FROM outbox WHERE failed_at IS NOT NULL"))


async def test_metrics_show_pending_mail_and_its_age(services: Services, mailbox: Mailbox, clean: None) -> None:
    mailbox.stop()
    async with serving(services, SMTP_URL=mailbox.url, **MAIL_ENV) as client:
        await _enqueue(services, 2)
        await sql(services.database_url, "UPDATE outbox SET created_at = now() - interval '90 seconds'")
        await asyncio.sleep(0.3)
        text = (await client.get("/metrics")).text
    pending = [line for line in text.splitlines() if line.startswith("storefront_mail_pending")]
    oldest = [line for line in text.splitlines() if line.startswith("storefront_mail_oldest_pending_age_seconds")]
    assert pending == ["storefront_mail_pending 2.0"]
    assert len(oldest) == 1
    assert float(oldest[0].split()[-1]) >= 90


async def test_mail_disabled_drops_messages_without_sending(services: Services, mailbox: Mailbox, clean: None) -> None:
    async with serving(services, MAIL_DISABLED="true", SMTP_URL=mailbox.url, **MAIL_ENV) as client:
        await register(client, "quiet@example.com")
        await _until(lambda: _all_sent(services))
    assert mailbox.messages == []


async def _all_sent(services: Services) -> bool:
    return not await sql(services.database_url, "SELECT 1 FROM outbox WHERE sent_at IS NULL")


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    assert [retry_delay(n, 10, 3600, 0.0) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert [retry_delay(n, 10, 3600, 0.999) for n in (1, 2)] == pytest.approx([9.995, 19.99])
    assert retry_delay(30, 10, 3600, 0.0) == 1800


def test_the_lease_outlasts_a_batch_on_a_slow_relay(services: Services) -> None:
    settings = make_settings(services, SMTP_TIMEOUT_SECONDS="60")
    delivery = Delivery(None, settings.mail, lambda m: None, None, listen_dsn="")  # type: ignore[arg-type]
    assert delivery.lease_seconds == 240


class SwallowingTransport:
    """Sends nothing, and loses a cancellation that lands mid-send, as `asyncio.wait_for` does on
    Python 3.11 inside aiosmtplib when the reply arrives at the same moment."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()

    @contextlib.asynccontextmanager
    async def session(self) -> Any:
        async def send(message: Any) -> None:
            self.sending.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.2)

        yield send


async def test_a_stopping_worker_ends_its_delivery_loop_even_if_a_send_swallowed_the_cancel(
    services: Services, clean: None
) -> None:
    """Regression: a worker's shutdown hung forever when the cancel of its delivery loop was lost."""
    from storefront.accounts import emails
    from storefront.platform.db import Database

    settings = make_settings(services, **MAIL_ENV)
    db = await Database(settings).open()
    try:
        transport = SwallowingTransport()
        delivery = Delivery(db, settings.mail, emails.renderer(settings), transport, listen_dsn=services.database_url)
        task, listener = asyncio.create_task(delivery.run()), asyncio.create_task(delivery.listener.run())
        await _enqueue(services, 1)
        await asyncio.wait_for(transport.sending.wait(), 10)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=3)
        assert done, "the delivery loop never stopped"
        listener.cancel()
        done, _ = await asyncio.wait([listener], timeout=3)
        assert done, "the listener never stopped"
    finally:
        await db.close()


async def test_an_unreachable_relay_ends_the_pass_after_one_batch(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    """One failed connect ends the pass: the other due messages keep their place instead of each
    batch waiting out the connect timeout of a relay that is not there."""
    from storefront.accounts import emails
    from storefront.platform.db import Database
    from storefront.platform.outbox import transport_for

    mailbox.stop()
    settings = make_settings(services, SMTP_URL=mailbox.url, **MAIL_ENV)
    transport = transport_for(settings.mail)
    assert transport is not None
    db = await Database(settings).open()
    try:
        delivery = Delivery(db, settings.mail, emails.renderer(settings), transport, listen_dsn=services.database_url)
        await _enqueue(services, 25)
        assert await delivery.deliver_due() == 0
    finally:
        await db.close()
    attempts = [row["attempts"] for row in await sql(services.database_url, "SELECT attempts FROM outbox")]
    assert sorted(attempts) == [0] * 15 + [1] * 10
