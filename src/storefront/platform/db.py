"""The asyncpg pool (one per worker) and the read / write connection helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from storefront.platform.settings import Settings

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
