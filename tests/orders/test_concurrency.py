"""The write path under real contention: many requests at once through one app and its pool."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.support.http import admin, verified_customer
from tests.support.shop import ITEMS, ORDERS, make_item, order, stock_of, units_of

pytestmark = pytest.mark.anyio


def _retries() -> float:
    return sum(
        REGISTRY.get_sample_value("storefront_db_retries_total", {"reason": reason}) or 0.0
        for reason in ("deadlock", "serialization")
    )


async def test_fifty_buyers_for_ten_units(live_client: httpx.AsyncClient, services: Any) -> None:
    _, admin_headers = await admin(live_client, services.database_url)
    item = await make_item(live_client, admin_headers, stock=10)
    _, headers = await verified_customer(live_client, services.database_url)
    responses = await asyncio.gather(*(order(live_client, headers, (item["id"], 1)) for _ in range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40
    assert await stock_of(services.database_url, item["id"]) == [0]
    assert all(r.json()["item_ids"] == [item["id"]] for r in responses if r.status_code == 409)
    orders = (await live_client.get(ORDERS, params={"limit": 100}, headers=admin_headers)).json()["items"]
    assert len(orders) == 10
    # Every successful order bumped the version once.
    assert (await live_client.get(f"{ITEMS}/{item['id']}")).headers["etag"] == '"11"'


async def test_crossed_orders_never_deadlock(live_client: httpx.AsyncClient, services: Any) -> None:
    _, admin_headers = await admin(live_client, services.database_url)
    a = await make_item(live_client, admin_headers, stock=1000)
    b = await make_item(live_client, admin_headers, stock=1000)
    _, headers = await verified_customer(live_client, services.database_url)
    retries_before = _retries()
    requests = []
    for _ in range(100):
        requests.append(order(live_client, headers, (a["id"], 1), (b["id"], 2)))
        requests.append(order(live_client, headers, (b["id"], 2), (a["id"], 1)))
    responses = await asyncio.gather(*requests)
    assert [r.status_code for r in responses] == [201] * 200, {r.status_code for r in responses}
    assert await stock_of(services.database_url, a["id"], b["id"]) == [800, 600]
    assert await units_of(services.database_url, a["id"], b["id"]) == [200, 400]
    assert _retries() == retries_before  # locks taken in id order: nothing even needed a retry


async def test_concurrent_cancels_restock_once(live_client: httpx.AsyncClient, services: Any) -> None:
    _, admin_headers = await admin(live_client, services.database_url)
    a = await make_item(live_client, admin_headers, stock=10)
    b = await make_item(live_client, admin_headers, stock=10)
    _, headers = await verified_customer(live_client, services.database_url)
    placed = [(await order(live_client, headers, (a["id"], 2), (b["id"], 3))).json()["id"] for _ in range(3)]
    # Each order is cancelled five times at once (by its owner and an admin), while new orders land.
    attempts = [
        live_client.post(f"{ORDERS}/{order_id}/cancel", headers=who)
        for order_id in placed
        for who in (headers, admin_headers, headers, admin_headers, headers)
    ]
    newcomers = [order(live_client, headers, (b["id"], 1), (a["id"], 1)) for _ in range(4)]
    responses = await asyncio.gather(*attempts, *newcomers)
    cancels, news = responses[: len(attempts)], responses[len(attempts) :]
    assert sorted(r.status_code for r in cancels) == [200] * 3 + [409] * 12
    assert [r.status_code for r in news] == [201] * 4
    assert await stock_of(services.database_url, a["id"], b["id"]) == [6, 6]
    assert await units_of(services.database_url, a["id"], b["id"]) == [4, 4]
