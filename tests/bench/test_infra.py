"""The bench's own PostgreSQL takes every target's pool at once, and its meter reads it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
from bench.databases import EmbeddedServers
from bench.system import SystemMeter, window_figures

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


def test_the_meter_finds_the_postmaster_and_takes_out_its_own_reads(
    private_postgres: tuple[EmbeddedPostgres, str],
) -> None:
    _, dsn = private_postgres
    meter = SystemMeter(dsn, "valkey://127.0.0.1:1")  # no Valkey there: no whole-system figure
    try:
        first, second = meter.read(0.0), meter.read(0.0)
        assert window_figures(first, second, 100) == (None, 0.0)
        assert first.xacts is not None
        assert [process.name() for process in meter.processes or []] == ["postgres"]

        async def work() -> None:
            connection = await asyncpg.connect(dsn)
            for _ in range(50):
                await connection.fetchval("SELECT 1")
            await connection.close()  # a backend publishes its counts as it exits

        asyncio.run(work())
        deadline = time.monotonic() + 5
        while (third := meter.read(0.0)).xacts is not None and third.xacts - second.xacts < 50:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        meter.close()
