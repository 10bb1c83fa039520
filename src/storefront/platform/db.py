"""The asyncpg pool (one per worker) and the read / write connection helpers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from prometheus_client import Counter

from storefront.errors import ServiceUnavailable
from storefront.platform.settings import Settings

T = TypeVar("T")
log = logging.getLogger("storefront.db")
RETRIES = Counter("storefront_db_retries_total", "Write transactions retried after a transient failure", ["reason"])
_TRANSIENT = {
    asyncpg.DeadlockDetectedError: "deadlock",
    asyncpg.SerializationError: "serialization",
}

ACQUIRE_TIMEOUT = 2.0
STATEMENT_TIMEOUT_MS = 15_000
# What an unreachable, restarting or saturated database raises: each means "retry shortly" (503).
UNAVAILABLE = (
    TimeoutError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
)


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


class Database:
    """One pool per worker; reads use a plain pooled connection, writes a transaction.

    Built with the settings (no I/O), opened and closed by the app's lifespan.
    """

    pool: asyncpg.Pool

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def open(self) -> Database:
        """Open the pool for DATABASE_URL, sized by DB_POOL_MIN / DB_POOL_MAX; returns self."""
        settings = self.settings
        assert settings.database_url, "DATABASE_URL is resolved by the launcher or the tests"
        self.pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            max_inactive_connection_lifetime=300,
            reset=_skip_reset,
            # The server enforces the statement timeout: a client-side command_timeout would arm a
            # timer on every query (~20 us each).
            server_settings={
                "application_name": "storefront",
                "jit": "off",
                "statement_timeout": str(STATEMENT_TIMEOUT_MS),
                "idle_in_transaction_session_timeout": str(STATEMENT_TIMEOUT_MS),
            },
        )
        return self

    async def close(self) -> None:
        """Close every connection, waiting for in-flight queries up to a short grace period."""
        try:
            await self.pool.close()
        except TimeoutError:
            self.pool.terminate()

    def acquire(self) -> Any:
        """A pooled connection (async context manager); an exhausted pool raises TimeoutError → 503.

        A timed acquire wraps the wait in `wait_for` (~20 us); with an idle connection at hand there
        is nothing to wait for, so the timeout is armed only when the pool may be exhausted.
        """
        if self.pool.get_idle_size():
            return self.pool.acquire()
        return self.pool.acquire(timeout=ACQUIRE_TIMEOUT)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction that commits on success and rolls back on error."""
        async with self.acquire() as connection, connection.transaction():
            yield connection

    def stats(self) -> tuple[int, int]:
        """(connections open, connections in use) for the metrics gauges."""
        size = self.pool.get_size()
        return size, size - self.pool.get_idle_size()
