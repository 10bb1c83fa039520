"""The asyncpg pool (one per worker) and the read / write connection helpers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
from prometheus_client import Counter

from storefront.errors import ServiceUnavailable
from storefront.platform import tracing
from storefront.platform.settings import Settings
from storefront.platform.sql import Queries, Value

T = TypeVar("T")
log = logging.getLogger("storefront.db")
RETRIES = Counter("storefront_db_retries_total", "Write transactions retried after a transient failure", ["reason"])
# A checkout that took over a millisecond waited (for a busy pool, or a new connection): counted with
# its wait, so that `rate(seconds) / rate(waits)` is the mean wait; a quick checkout costs one clock read.
WAIT_COUNTED_FROM = 0.001
POOL_WAITS = Counter("storefront_db_pool_waits_total", "Checkouts that waited over 1 ms for a connection")
POOL_WAIT_SECONDS = Counter("storefront_db_pool_wait_seconds_total", "Time those checkouts waited, in seconds")
_TRANSIENT = {
    asyncpg.DeadlockDetectedError: "deadlock",
    asyncpg.SerializationError: "serialization",
}

STATEMENT_TIMEOUT_MS = 15_000
# A connection that raised one of these is dead or in an unknown state: never hand it out again.
BROKEN = (
    OSError,
    asyncpg.PostgresConnectionError,  # class 08: the connection failed
    asyncpg.OperatorInterventionError,  # class 57: shut down (57P01/02), cannot connect now (57P03)
    asyncpg.InterfaceError,  # the socket is gone (ConnectionDoesNotExistError) or misused
    asyncpg.InternalClientError,  # "cannot switch to state …": the protocol lost its place
)
# What an unreachable, restarting, frozen or saturated database raises: each means "retry shortly".
UNAVAILABLE = (TimeoutError, asyncpg.TooManyConnectionsError, *BROKEN)


# SQLSTATEs that a request's values can cause: NUL or a character the encoding lacks (22021, 22P05),
# a date or a number out of range (22008, 22003).
BAD_INPUT_STATES = frozenset({"22021", "22P05", "22008", "22003"})


def is_bad_input(exc: BaseException) -> bool:
    """True for a database error the request's values caused (a 422, never a 500 or a 503)."""
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in BAD_INPUT_STATES
    # asyncpg's own "invalid input for query argument" error is both an InterfaceError and a ValueError.
    return isinstance(exc, asyncpg.InterfaceError) and isinstance(exc, ValueError)


async def retry_once(operation: Callable[[], Awaitable[T]]) -> T:
    """Run a write transaction; on a deadlock or serialization failure run it once more, then 503."""
    try:
        return await operation()
    except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
        RETRIES.labels(_TRANSIENT[type(exc)]).inc()
        log.warning("retrying a write after a transient failure", extra={"error": type(exc).__name__})
    try:
        return await operation()
    except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
        raise ServiceUnavailable("The write kept conflicting with concurrent ones; retry shortly.") from None


async def _skip_reset(connection: asyncpg.Connection) -> None:
    """Replace the per-release reset query (RESET ALL, UNLISTEN …): we set no session state.

    asyncpg still rolls back a transaction left open before calling this.
    """


# The server enforces the statement timeout: a client-side command_timeout would arm a timer on
# every query (~20 us each).
SESSION_SETTINGS = {
    "jit": "off",
    "statement_timeout": str(STATEMENT_TIMEOUT_MS),
    "idle_in_transaction_session_timeout": str(STATEMENT_TIMEOUT_MS),
}


def connect_options(settings: Settings) -> dict[str, Any]:
    """asyncpg's connection options. Behind a transaction pooler (DB_PGBOUNCER=transaction) each
    transaction may run on another server connection: no named prepared statements (PgBouncer < 1.21
    keeps none; asyncpg then sends its unnamed statement's Parse with every Bind), and only the
    startup parameters PgBouncer forwards — the session settings come from the pooler's
    `connect_query` (or the role's `ALTER ROLE … SET`) instead."""
    if settings.db_pgbouncer == "transaction":
        return {"statement_cache_size": 0, "server_settings": {"application_name": "storefront"}}
    return {"server_settings": {"application_name": "storefront", **SESSION_SETTINGS}}


class DatabaseTimeout(TimeoutError):
    """The database did not answer within DB_TIMEOUT_SECONDS; a write in flight may have committed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The database did not answer within {seconds:g} s; retry shortly. A write may have taken "
            "effect: retry it with the same Idempotency-Key to be safe."
        )


class Checkout:
    """One pooled connection for one unit of work, which must be done within DB_TIMEOUT_SECONDS,
    waiting for the pool included: a frozen or unreachable database costs a 503, not a hang.

    One timer per checkout (~2 µs, against ~20 µs for a `wait_for` per query). When it fires, the
    connection is terminated (its state is unknown, and a rollback would wait on the frozen server)
    and the task cancelled; the caller sees TimeoutError, and the task is not left cancelling
    (whatever the body raised instead, even when an await below lost the cancel). A connection that
    failed at the connection level is terminated too; after a database restart each pooled one fails
    once that way (a 503) and is replaced.
    """

    __slots__ = ("_conn", "_db", "_expired", "_task", "_timer")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Any = None
        self._expired = False

    async def __aenter__(self) -> Any:
        self._task = asyncio.current_task()
        self._timer = asyncio.get_running_loop().call_later(self._db.timeout, self._expire)
        started = time.perf_counter()
        try:
            self._conn = await self._db.pool.acquire()
        except BaseException as exc:
            self._timer.cancel()
            self._raise_if_expired(exc)
            raise
        if (waited := time.perf_counter() - started) >= WAIT_COUNTED_FROM:
            POOL_WAITS.inc()
            POOL_WAIT_SECONDS.inc(waited)
        return self._conn

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()
        try:
            await self._give_back(exc)
        finally:
            # Whatever happened since, the deadline's cancel is undone here: left on the task, it
            # would end the caller at its next check (a background loop would stop for good).
            if self._expired and self._task is not None:
                self._task.uncancel()
        if self._expired and exc is not None:
            raise DatabaseTimeout(self._db.timeout) from exc

    async def _give_back(self, exc: BaseException | None) -> None:
        if self._expired or isinstance(exc, BROKEN):
            _terminate(self._conn)  # its state is unknown: the pool opens another in its place
        # A no-op for a terminated connection: terminating gave it back to the pool already.
        await self._db.pool.release(self._conn)

    def _expire(self) -> None:
        self._expired = True
        if self._conn is not None:
            _terminate(self._conn)
        if self._task is not None:
            self._task.cancel()

    def _raise_if_expired(self, exc: BaseException) -> None:
        if self._expired:
            if self._task is not None:
                self._task.uncancel()
            raise DatabaseTimeout(self._db.timeout) from exc


def _terminate(conn: Any) -> None:
    """Close a checked-out connection at once. Terminating a pooled connection hands it back to the
    pool and detaches its proxy, after which every call on the proxy (`is_closed()` included)
    raises InterfaceError: a connection terminated already is left as it is."""
    with contextlib.suppress(asyncpg.InterfaceError):
        conn.terminate()


class TracingQueries(Queries, file="tracing"):
    """What a write transaction runs while tracing is on."""

    carry_trace: Value[str]


class Database:
    """One pool per worker; reads use a plain pooled connection, writes a transaction.

    Built with the settings (no I/O), opened and closed by the app's lifespan.
    """

    pool: asyncpg.Pool

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = float(settings.db_timeout_seconds)

    async def open(self) -> Database:
        """Open the pool for DATABASE_URL, sized by DB_POOL_MIN / DB_POOL_MAX; returns self."""
        settings = self.settings
        assert settings.database_url, "DATABASE_URL is resolved by the launcher or the tests"
        self.pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            max_inactive_connection_lifetime=300,
            timeout=self.timeout,  # to connect
            reset=_skip_reset,
            **connect_options(settings),
        )
        return self

    async def close(self) -> None:
        """Close every connection, waiting for in-flight queries up to a short grace period."""
        try:
            await self.pool.close()
        except TimeoutError:
            self.pool.terminate()

    def acquire(self) -> Checkout:
        """A pooled connection for one unit of work (`async with`), bounded by DB_TIMEOUT_SECONDS."""
        return Checkout(self)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction that commits on success and rolls back on error.
        In a sampled trace, mail the transaction queues carries the trace (sql/queries/tracing.sql)."""
        async with self.acquire() as connection, connection.transaction():
            if (parent := tracing.traceparent()) is not None:
                await TracingQueries.carry_trace(connection, parent)
            yield connection

    def stats(self) -> tuple[int, int]:
        """(connections open, connections in use) for the metrics gauges."""
        size = self.pool.get_size()
        return size, size - self.pool.get_idle_size()


async def purge_in_batches(db: Database, purge: Callable[[asyncpg.Connection, int], Awaitable[str]], batch: int) -> int:
    """Run a `DELETE … LIMIT $1` statement until it deletes less than a batch; how many rows went."""
    total = 0
    while True:
        async with db.acquire() as conn:
            status = await purge(conn, batch)
        deleted = int(status.rsplit(" ", 1)[-1])
        total += deleted
        if deleted < batch:
            return total
