"""The transactional outbox (docs/design.md#email-and-the-outbox): `enqueue` in the transaction of a
change, `Delivery` sends.

Every worker runs a delivery loop. It is woken at commit by `NOTIFY storefront_outbox` (a trigger
on the table) on a LISTEN connection of its own, and polls every few seconds in case a notification
was missed. A loop claims due rows with `FOR UPDATE SKIP LOCKED` and leases them (their `due_at`
moves past the send's deadline), so two loops never take the same row while its lease runs; a loop
that dies mid-send leaves the row to be sent again once the lease ends: at least once, with the
same `Message-ID` (from the outbox id) so receivers can drop the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import msgspec
from prometheus_client import Counter, Gauge

from storefront.platform import tracing
from storefront.platform.db import Database, purge_in_batches
from storefront.platform.jobs import Beat, Loop, no_beat, raise_if_cancelled
from storefront.platform.listener import Listener
from storefront.platform.mail import DiscardTransport, Sender, SendError, SmtpTransport
from storefront.platform.settings import MailSettings
from storefront.platform.sql import Execute, Queries, Rows, Value

log = logging.getLogger("storefront.outbox")
CHANNEL = "storefront_outbox"
SENT_RETENTION_DAYS = 7
FAILED_RETENTION_DAYS = 30
PURGE_BATCH = 10_000
POLL_SECONDS = 5.0  # in case a notification was missed
CLAIM_BATCH = 10
RETRY_DELAY_CAP = 3600.0
SMTP_SPAN = {"network.protocol.name": "smtp"}

SENT = Counter("storefront_mail_sent_total", "Messages the SMTP relay accepted", ["kind"])
FAILED = Counter("storefront_mail_failed_total", "Messages given up on (refused, or out of attempts)", ["kind"])
RETRIED = Counter("storefront_mail_retries_total", "Deliveries put off after a temporary failure", ["kind"])
PENDING = Gauge("storefront_mail_pending", "Messages neither sent nor failed yet", multiprocess_mode="livemax")
OLDEST = Gauge(
    "storefront_mail_oldest_pending_age_seconds",
    "Age of the oldest message neither sent nor failed",
    multiprocess_mode="livemax",
)


class OutboxQueries(Queries, file="outbox"):
    """The outbox's statements."""

    enqueue: Value[str, str, str]
    claim_due: Rows[int, float]
    mark_sent: Execute[UUID]
    retry_later: Execute[UUID, float, str]
    mark_failed: Execute[UUID, str]
    pending_stats: Rows[()]
    purge: Execute[int, int, int]


Q = OutboxQueries


async def enqueue(conn: asyncpg.Connection, kind: str, recipient: str, payload: Mapping[str, Any]) -> UUID:
    """Queue a message in the caller's transaction: it is sent if, and only if, that commits."""
    return await Q.enqueue(conn, kind, recipient, msgspec.json.encode(payload).decode())  # type: ignore[no-any-return]


async def purge_outbox(db: Database) -> int:
    """Delete messages sent over a week ago and failed over a month ago; how many."""

    async def purge(conn: asyncpg.Connection, batch: int) -> str:
        return await Q.purge(conn, batch, SENT_RETENTION_DAYS, FAILED_RETENTION_DAYS)

    return await purge_in_batches(db, purge, PURGE_BATCH)


class OutboxMessage(msgspec.Struct, frozen=True):
    """A claimed row: what to send, to whom, and how many times it has been tried (this one included)."""

    id: UUID
    kind: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    trace_parent: str | None = None  # the trace of the request that queued it, when it was sampled

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> OutboxMessage:
        """From a `claim_due` row (asyncpg hands jsonb over as text)."""
        return cls(
            id=row["id"],
            kind=row["kind"],
            recipient=row["recipient"],
            payload=msgspec.json.decode(row["payload"]),
            attempts=row["attempts"],
            created_at=row["created_at"],
            trace_parent=row["trace_parent"],
        )


Renderer = Callable[[OutboxMessage], EmailMessage]
"""Turns a claimed message into its Subject and body; `Delivery` adds From, To, Date, Message-ID.
UnknownKind when this version has no such message."""


class UnknownKind(LookupError):
    """A kind this version cannot render: a newer version's, queued while a rolling deploy runs both.
    It is retried (a worker that knows it will send it), never failed at the first try."""


class Transport(Protocol):
    """Opens a sending session: `async with transport.session() as send: await send(message)`."""

    def session(self) -> contextlib.AbstractAsyncContextManager[Sender]: ...


def transport_for(mail: MailSettings) -> Transport | None:
    """The relay of SMTP_URL, a discarding one for MAIL_DISABLED, or None (nothing to send with)."""
    if mail.mail_disabled:
        return DiscardTransport()
    if mail.smtp_url is None:
        return None
    return SmtpTransport(mail.smtp_url, float(mail.smtp_timeout_seconds))


def retry_delay(attempts: int, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff with jitter: `base · 2^(attempts-1)`, at most `cap`, then scaled by a
    factor in [0.5, 1) (`jitter` in [0, 1)) so messages that failed together do not retry together."""
    return min(cap, base * 2.0 ** (attempts - 1)) * (0.5 + jitter / 2)


class Delivery:
    """One worker's delivery loop, `run()`, woken by its `listener`; the app supervises both (`loops()`)."""

    def __init__(
        self,
        db: Database,
        mail: MailSettings,
        render: Renderer,
        transport: Transport,
        *,
        listen_dsn: str,
        lease_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.render = render
        self.transport = transport
        self.sender = mail.sender
        self.max_attempts = mail.mail_max_attempts
        self.timeout = float(mail.smtp_timeout_seconds)
        # Long enough for a whole batch on a slow relay; a batch stops early rather than outlive it.
        self.lease_seconds = lease_seconds or max(120.0, 4 * self.timeout)
        self.base_delay = mail.mail_retry_base_seconds
        self.listener = Listener(listen_dsn, CHANNEL, self.timeout, POLL_SECONDS)
        self.wake = self.listener.wake

    def loops(self) -> list[Loop]:
        """The delivery loop and its LISTEN, to run under a supervisor: a delivery pass may take a
        batch's lease; the LISTEN loop may wait out its longest backoff and a connect timeout."""
        return [
            Loop("mail-delivery", self.lease_seconds + POLL_SECONDS, self.run),
            Loop("mail-listen", self.listener.longest_wait, self.listener.run),
        ]

    async def run(self, beat: Beat = no_beat) -> None:
        """Deliver whatever is due, then sleep until woken (by the listener), the next message is due,
        or the poll; `beat()` after every batch and every pass, failed or not."""
        while True:
            self.wake.clear()
            try:
                while await self.deliver_due():
                    beat()
                delay = await self._housekeeping()
            except Exception as exc:  # the database may be down for a while: poll again later
                log.warning("mail delivery pass failed", extra={"error": repr(exc)})
                delay = POLL_SECONDS
            beat()
            raise_if_cancelled()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)

    async def deliver_due(self) -> int:
        """Claim one batch of due messages and try each; how many were claimed, or 0 when the relay
        could not be reached (the pass ends there: other due messages keep their place, rather than
        each batch waiting out the connect timeout of an unreachable relay in turn)."""
        async with self.db.transaction() as conn:
            rows = await Q.claim_due(conn, CLAIM_BATCH, self.lease_seconds)
        messages = [OutboxMessage.from_row(row) for row in rows]
        if messages and not await self._send_all(messages):
            return 0
        return len(messages)

    async def _send_all(self, messages: Sequence[OutboxMessage]) -> bool:
        """Send a claimed batch on one session; False when no session could be opened."""
        deadline = time.monotonic() + self.lease_seconds - 2 * self.timeout
        pending = list(messages)
        try:
            with tracing.client("smtp session", SMTP_SPAN):
                return await self._send_on_session(pending, deadline)
        except SendError as exc:  # no session: every message not yet tried waits for a retry
            log.warning("mail relay unavailable", extra={"error": str(exc), "messages": len(pending)})
            for message in pending:
                await self._retry_or_fail(message, str(exc))
            return False

    async def _send_on_session(self, pending: list[OutboxMessage], deadline: float) -> bool:
        """Send `pending` (emptied as it goes) on one session until done or past `deadline`."""
        async with self.transport.session() as send:
            while pending:
                if time.monotonic() > deadline:
                    for message in pending:  # their lease would run out mid-send: due again now
                        await self.db_execute(Q.retry_later, message.id, 0.0, "lease ran out before its turn")
                    return True
                message = pending.pop(0)
                # The delivery continues the trace of the request that queued the message.
                with tracing.continued(f"deliver {message.kind}", message.trace_parent, SMTP_SPAN):
                    await self._send_one(send, message)
        return True

    async def _send_one(self, send: Sender, message: OutboxMessage) -> None:
        try:
            email = self.compose(message)
        except UnknownKind:
            log.warning(
                "mail of a kind this version does not know: left for another worker", extra={"kind": message.kind}
            )
            await self._retry_or_fail(message, f"unknown kind {message.kind!r}")
            return
        except Exception as exc:
            log.exception("mail could not be rendered", extra={"id": str(message.id), "kind": message.kind})
            await self._fail(message, f"render: {exc!r}")
            return
        try:
            await send(email)
        except SendError as exc:
            log.warning("mail not accepted", extra={"id": str(message.id), "error": str(exc)})
            if exc.permanent:
                await self._fail(message, str(exc))
            else:
                await self._retry_or_fail(message, str(exc))
            return
        await self.db_execute(Q.mark_sent, message.id)
        SENT.labels(message.kind).inc()

    def compose(self, message: OutboxMessage) -> EmailMessage:
        """The full message: the renderer's subject and body, and the envelope headers. The
        `Message-ID` depends on the outbox id alone, so every resend carries the same one."""
        email = self.render(message)
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Date"] = format_datetime(message.created_at)
        email["Message-ID"] = f"<{message.id}@{self.sender.domain or 'localhost'}>"
        return email

    async def _retry_or_fail(self, message: OutboxMessage, error: str) -> None:
        if message.attempts >= self.max_attempts:
            await self._fail(message, f"{error} (after {message.attempts} attempts)")
            return
        delay = retry_delay(message.attempts, self.base_delay, RETRY_DELAY_CAP, random.random())
        await self.db_execute(Q.retry_later, message.id, delay, error[:1000])
        RETRIED.labels(message.kind).inc()

    async def _fail(self, message: OutboxMessage, error: str) -> None:
        log.error(
            "mail failed for good",
            extra={"id": str(message.id), "kind": message.kind, "attempts": message.attempts, "error": error},
        )
        await self.db_execute(Q.mark_failed, message.id, error[:1000])
        FAILED.labels(message.kind).inc()

    async def db_execute(self, query: Callable[..., Any], *args: Any) -> None:
        """Run one outbox update on a pooled connection."""
        async with self.db.acquire() as conn:
            await query(conn, *args)

    async def _housekeeping(self) -> float:
        """Refresh the gauges (after every pass: passes follow mail, and the poll); seconds to sleep."""
        async with self.db.acquire() as conn:
            (stats,) = await Q.pending_stats(conn)
        PENDING.set(stats["pending"])
        OLDEST.set(stats["oldest_age_seconds"])
        due_in = stats["next_due_in"]
        return POLL_SECONDS if due_in is None else min(POLL_SECONDS, max(due_in, 0.05))
