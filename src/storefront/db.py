"""The asyncpg pool (one per worker), named SQL loading, and the read / write connection helpers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg

from storefront.config import Settings

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
ACQUIRE_TIMEOUT = 2.0
STATEMENT_TIMEOUT_MS = 15_000
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.M)

# Callbacks run for every query in `test` environments (tests count round trips with them).
query_observers: list[Callable[[str], None]] = []


def load_queries(domain: str) -> Any:
    """Read `sql/queries/<domain>.sql` into an object whose attributes are its `-- name:` blocks."""
    text = (SQL_DIR / "queries" / f"{domain}.sql").read_text()
    parts = _NAME.split(text)
    queries = {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    return SimpleNamespace(**queries)


async def _skip_reset(connection: asyncpg.Connection) -> None:
    """Replace the per-release reset query (RESET ALL, UNLISTEN …): we set no session state.

    asyncpg still rolls back a transaction left open before calling this.
    """


def _observe(record: Any) -> None:
    for observer in query_observers:
        observer(record.query)


async def _init_connection(connection: asyncpg.Connection) -> None:
    connection.add_query_logger(_observe)


class Database:
    """One pool per worker; reads use a plain pooled connection, writes a transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, settings: Settings) -> Database:
        """Open the pool for `settings.database_url` (its size from DB_POOL_MIN / DB_POOL_MAX)."""
        assert settings.database_url, "DATABASE_URL is resolved by the launcher or the tests"
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            max_inactive_connection_lifetime=300,
            reset=_skip_reset,
            init=_init_connection if settings.environment == "test" else None,
            # The server enforces the statement timeout: a client-side command_timeout would arm a
            # timer on every query (~20 us each).
            server_settings={
                "application_name": "storefront",
                "jit": "off",
                "statement_timeout": str(STATEMENT_TIMEOUT_MS),
                "idle_in_transaction_session_timeout": str(STATEMENT_TIMEOUT_MS),
            },
        )
        return cls(pool)

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
