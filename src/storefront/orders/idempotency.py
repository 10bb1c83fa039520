"""Idempotency keys (Stripe / IETF draft semantics) for POST requests that create things.

A key is scoped to the user and kept 24 h. The first request with a key runs inside one transaction
that also holds a transaction-scoped advisory lock on (user, key) and records the response, so a
stored response always belongs to committed work, and a crash leaves no half-claimed key behind.
While that transaction runs, the same key gets 409; afterwards the same canonical body is answered
with the stored status, body and `Location` (+ `Idempotent-Replayed: true`), a different body with
422. 4xx outcomes of the work are stored too; 5xx outcomes roll back and store nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from storefront.errors import DomainError, IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed
from storefront.orders.queries import OrderQueries as Q
from storefront.platform.db import Database, purge_in_batches, retry_once
from storefront.web.conventions import PROBLEM_MEDIA_TYPE
from storefront.web.problems import render_problem

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL_HOURS = 24
PURGE_FIRST_DELAY = 60.0
PURGE_INTERVAL = 600.0
PURGE_BATCH = 5000
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class Stored(msgspec.Struct, frozen=True):
    """A response as recorded under a key: status, media type, exact body bytes and `Location`."""

    status_code: int
    media_type: str
    body: bytes
    location: str | None = None


class Answer(NamedTuple):
    """What a request with a key is answered: the stored response, and whether it is a replay."""

    stored: Stored
    replayed: bool


Work = Callable[[asyncpg.Connection], Awaitable[Stored]]


def parse_key(raw: str) -> str:
    """The key when it is 1-255 visible ASCII characters; anything else is 422."""
    if not _KEY.fullmatch(raw):
        raise ValidationFailed.on(HEADER, "must be 1-255 visible ASCII characters")
    return raw


def request_hash(operation: str, data: object) -> bytes:
    """SHA-256 of the operation's name and the body's canonical JSON (keys sorted, no whitespace)."""
    canonical = msgspec.json.encode(data, order="sorted")
    return hashlib.sha256(operation.encode() + b"\n" + canonical).digest()


def _replay(row: asyncpg.Record | None, fingerprint: bytes) -> Stored:
    if row is None or row["status_code"] is None:  # cannot happen: rows commit with their response
        raise IdempotencyInProgress("This Idempotency-Key is being processed; retry shortly.")
    if row["request_hash"] != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
    return Stored(row["status_code"], row["media_type"], bytes(row["body"]), row["location"])


def _stored_problem(error: DomainError, request_id: str | None) -> Stored:
    """A domain error exactly as the error handler renders it (the one renderer), for storing."""
    status, _, body = render_problem(error, request_id)
    return Stored(status, PROBLEM_MEDIA_TYPE, body)


async def _run(conn: asyncpg.Connection, user_id: UUID, key: str, work: Work, request_id: str | None) -> Stored:
    error: DomainError | None = None
    try:
        outcome = await work(conn)
    except DomainError as exc:
        if exc.status >= 500:
            raise
        error, outcome = exc, _stored_problem(exc, request_id)
    values = (outcome.status_code, outcome.media_type, outcome.body, outcome.location)
    try:
        await Q.save_idempotent_response(conn, user_id, key, *values)
    except asyncpg.InFailedSQLTransactionError:
        if error is None:
            raise
        # The work failed inside the database after all (a constraint backstop): the transaction is
        # gone, nothing is kept, and a retry with this key runs the work afresh.
        raise error from None
    return outcome


async def respond_once(
    db: Database, user_id: UUID, key: str, fingerprint: bytes, work: Work, request_id: str | None
) -> Answer:
    """Run `work` once per (user, key) and answer with its response (a 4xx domain error rendered
    as problem+json, carrying `request_id`), or with the response stored by an earlier run."""

    async def attempt() -> Answer:
        async with db.transaction() as conn:
            claim = await Q.claim_idempotency_key(conn, user_id, key, fingerprint, TTL_HOURS)
            if not claim["held"]:
                raise IdempotencyInProgress(
                    "A request with this Idempotency-Key is still running; retry shortly.",
                    headers={"Retry-After": "1"},
                )
            if not claim["claimed"]:
                return Answer(_replay(await Q.get_idempotent_response(conn, user_id, key), fingerprint), True)
            return Answer(await _run(conn, user_id, key, work, request_id), False)

    return await retry_once(attempt)


async def purge_expired(db: Database) -> int:
    """Delete every expired key, in batches; return how many."""
    return await purge_in_batches(db, Q.purge_idempotency_keys, PURGE_BATCH)
