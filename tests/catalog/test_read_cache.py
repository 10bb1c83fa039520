"""Items from each worker's memory, coherent across instances: two apps on one database, a write on
one read on the other within the bound, nothing for a rolled-back write, a fill racing an
invalidation, and a lost or frozen channel costing speed, never a stale read."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import asyncpg
import httpx
import pytest

from storefront.catalog import service
from storefront.platform.invalidations import HEARTBEAT_BOUND, SERVER_SETTINGS
from tests.support.http import admin
from tests.support.readcache import BOUND, instance, until
from tests.support.services import Services
from tests.support.shop import ITEMS, make_item, sql

pytestmark = pytest.mark.anyio
GET_ITEM = "WHERE id = $1 AND deleted_at IS NULL"


async def _held_item(client: httpx.AsyncClient, services: Services) -> tuple[str, dict[str, Any]]:
    """A new item `Kettle`, read once so the instance holds it: its URL and body."""
    _, headers = await admin(client, services.database_url)
    item = await make_item(client, headers, name="Kettle")
    url = f"{ITEMS}/{item['id']}"
    await client.get(url)
    return url, item


def item_reads(queries: list[str]) -> int:
    return sum(GET_ITEM in query for query in queries)


async def test_a_write_on_one_instance_is_read_on_the_other_within_the_bound(
    services: Services, clean: None, executed_queries: list[str]
) -> None:
    async with instance(services) as (a, _), instance(services) as (b, _):
        _, headers = await admin(a, services.database_url)
        item = await make_item(a, headers, name="Kettle")
        url = f"{ITEMS}/{item['id']}"
        first = await b.get(url)
        executed_queries.clear()
        assert (await b.get(url)).headers["etag"] == first.headers["etag"]
        assert item_reads(executed_queries) == 0  # from B's memory
        patched = await a.patch(url, json={"price_cents": 1234}, headers=headers)
        await asyncio.sleep(BOUND)
        after = await b.get(url)
        assert after.json()["price_cents"] == 1234
        assert after.headers["etag"] == patched.headers["etag"] != first.headers["etag"]
        assert (await b.get(url, headers={"If-None-Match": after.headers["etag"]})).status_code == 304
        assert (await a.delete(url, headers=headers)).status_code == 204
        await asyncio.sleep(BOUND)
        assert (await b.get(url)).status_code == 404


async def test_the_writer_reads_its_own_write_at_once(services: Services, clean: None) -> None:
    async with instance(services) as (a, _):
        _, headers = await admin(a, services.database_url)
        item = await make_item(a, headers)
        url = f"{ITEMS}/{item['id']}"
        await a.get(url)
        await a.patch(url, json={"name": "Renamed"}, headers=headers)
        assert (await a.get(url)).json()["name"] == "Renamed"  # no wait: the answer waited for it


async def test_a_rolled_back_write_invalidates_nothing(
    services: Services, clean: None, executed_queries: list[str]
) -> None:
    async with instance(services) as (a, state):
        url, item = await _held_item(a, services)
        epoch = state.cache.epoch
        connection = await asyncpg.connect(services.database_url)
        try:
            transaction = connection.transaction()
            await transaction.start()
            await connection.execute("UPDATE items SET name = 'Never' WHERE id = $1", item["id"])
            await transaction.rollback()
        finally:
            await connection.close()
        await state.invalidations.settle()  # type: ignore[union-attr]
        executed_queries.clear()
        assert (await a.get(url)).json()["name"] == "Kettle"
        assert item_reads(executed_queries) == 0
        assert state.cache.epoch == epoch


async def test_a_fill_racing_an_invalidation_never_leaves_a_stale_entry(services: Services, clean: None) -> None:
    async with instance(services) as (a, state):
        _, headers = await admin(a, services.database_url)
        item = await make_item(a, headers, name="Before")
        url = f"{ITEMS}/{item['id']}"
        read, release = asyncio.Event(), asyncio.Event()
        get_item = service.get_item

        async def slow_get_item(*args: Any) -> Any:
            found = await get_item(*args)  # the database has answered with the older row…
            read.set()
            await release.wait()  # …and the reader is held before it keeps it
            return found

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(service, "get_item", slow_get_item)
            reader = asyncio.create_task(a.get(url))
            await read.wait()
            await sql(services.database_url, "UPDATE items SET name = 'After' WHERE id = $1", item["id"])
            await state.invalidations.settle()  # type: ignore[union-attr]
            release.set()
            assert (await reader).json()["name"] == "Before"  # read before the write: fine to answer
        assert (await a.get(url)).json()["name"] == "After"  # but not kept


async def _listen_backend(dsn: str) -> int:
    pids = await sql(
        dsn, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", SERVER_SETTINGS["application_name"]
    )
    assert len(pids) == 1, pids
    return int(pids[0]["pid"])


async def test_a_killed_channel_costs_speed_never_freshness(
    services: Services, clean: None, executed_queries: list[str]
) -> None:
    async with instance(services) as (a, state):
        url, item = await _held_item(a, services)
        pid = await _listen_backend(services.database_url)
        await sql(services.database_url, "SELECT pg_terminate_backend($1)", pid)
        await until(lambda: not state.cache.healthy(), "still healthy after its connection was killed")
        await sql(services.database_url, "UPDATE items SET name = 'Fresh' WHERE id = $1", item["id"])
        assert (await a.get(url)).json()["name"] == "Fresh"
        await until(lambda: state.cache.healthy(), "never reconnected")
        await a.get(url)
        executed_queries.clear()
        assert (await a.get(url)).json()["name"] == "Fresh"
        assert item_reads(executed_queries) == 0  # caching again


async def test_a_frozen_channel_is_bypassed_after_its_heartbeat_bound(services: Services, clean: None) -> None:
    async with instance(services) as (a, state):
        url, item = await _held_item(a, services)
        pid = await _listen_backend(services.database_url)
        os.kill(pid, signal.SIGSTOP)  # the backend stops delivering anything, the socket stays open
        try:
            await asyncio.sleep(HEARTBEAT_BOUND + 0.2)
            assert not state.cache.healthy()
            await sql(services.database_url, "UPDATE items SET name = 'Fresh' WHERE id = $1", item["id"])
            assert (await a.get(url)).json()["name"] == "Fresh"
        finally:
            os.kill(pid, signal.SIGCONT)
        await until(lambda: state.cache.healthy(), "never healthy again")
        assert (await a.get(url)).json()["name"] == "Fresh"
