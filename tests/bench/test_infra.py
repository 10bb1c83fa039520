"""The bench's own PostgreSQL takes every target's pool at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from bench.databases import EmbeddedServers

from storefront.launch.embedded import EmbeddedPostgres


def _max_connections(dsn: str) -> int:
    async def show() -> int:
        connection = await asyncpg.connect(dsn)
        try:
            return int(await connection.fetchval("SHOW max_connections"))
        finally:
            await connection.close()

    return asyncio.run(show())


def test_a_started_postgresql_is_given_room_for_every_pool(private_postgres: tuple[EmbeddedPostgres, str]) -> None:
    postgres, dsn = private_postgres
    servers = EmbeddedServers(Path(), dsn, "unused")
    servers.postgres = postgres
    # Six targets × 2 workers × 10 + spare outgrew the default of 100 (2-worker runs had 17,000 errors).
    servers.allow_connections(140)
    assert _max_connections(dsn) == 140
    servers.allow_connections(50)  # never lowered
    assert _max_connections(dsn) == 140
