"""GET /api/v1/stats: admin-only shop counters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from storefront.orders import stats
from tests.support.http import admin, assert_problem, verified_customer
from tests.support.shop import ITEMS, ORDERS, make_item, order

pytestmark = pytest.mark.anyio
STATS = "/api/v1/stats"


async def test_stats_count_live_rows_and_placed_revenue(client: AsyncTestClient[Any], services: Any) -> None:
    _, admin_headers = await admin(client, services.database_url)
    cheap = await make_item(client, admin_headers, price_cents=250, stock=100)
    dear = await make_item(client, admin_headers, price_cents=10_000, stock=100)
    gone = await make_item(client, admin_headers)
    await client.delete(f"{ITEMS}/{gone['id']}", headers=admin_headers)
    alice, alice_headers = await verified_customer(client, services.database_url)
    _, bob_headers = await verified_customer(client, services.database_url)
    await order(client, alice_headers, (cheap["id"], 4))  # 1000
    await order(client, bob_headers, (dear["id"], 1), (cheap["id"], 2))  # 10500
    cancelled = await order(client, bob_headers, (dear["id"], 3))
    await client.post(f"{ORDERS}/{cancelled.json()['id']}/cancel", headers=bob_headers)
    await client.patch(f"/api/v1/users/{alice['id']}", json={"is_active": False}, headers=admin_headers)

    response = await client.get(STATS, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "users": 3,
        "active_users": 2,
        "items": 2,
        "orders": 3,
        "orders_placed": 2,
        "revenue_cents": 11_500,
    }
    assert_problem(await client.get(STATS, headers=bob_headers), 403, "forbidden")
    assert_problem(await client.get(STATS), 401, "unauthenticated")


class CountingPool:
    """Stands in for the Database: counts connections held at once, each for a moment."""

    def __init__(self) -> None:
        self.held = 0
        self.most = 0

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        self.held += 1
        self.most = max(self.most, self.held)
        try:
            await asyncio.sleep(0.01)
            yield self
        finally:
            self.held -= 1

    async def fetchrow(self, query: str) -> dict[str, int]:
        return dict.fromkeys(("users", "active_users", "items", "orders", "orders_placed", "revenue_cents"), 1)


async def test_stats_never_hold_more_than_a_few_connections() -> None:
    pool = CountingPool()
    results = await asyncio.gather(*(stats.shop_stats(pool) for _ in range(10)))  # type: ignore[arg-type]
    assert all(result.orders == 1 for result in results)
    assert pool.most == stats.STATS_CONNECTIONS
