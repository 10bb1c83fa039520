"""`GET /api/v1/stats`: shop-wide counters for admins.

The three aggregates (users, items, orders) are independent, so they run concurrently, each on its
own pooled connection; a per-pool gate caps stats at STATS_CONNECTIONS connections in total, however
many stats requests arrive at once, so they can never starve the pool.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

import asyncpg
from litestar import get
from litestar.datastructures import State

from storefront.accounts.guards import ADMIN, SECURITY
from storefront.catalog.views import STATS
from storefront.db import Database, load_queries
from storefront.openapi import problems
from storefront.orders.schemas import StatsOut

Q = load_queries("orders")
STATS_CONNECTIONS = 3
_gates: WeakKeyDictionary[Database, asyncio.Semaphore] = WeakKeyDictionary()


async def _aggregate(db: Database, gate: asyncio.Semaphore, query: str) -> asyncpg.Record:
    async with gate, db.acquire() as conn:
        return await conn.fetchrow(query)


async def shop_stats(db: Database) -> StatsOut:
    """Live users (and the active ones), live items, all orders, placed orders and their revenue."""
    gate = _gates.setdefault(db, asyncio.Semaphore(STATS_CONNECTIONS))
    # gather (not a TaskGroup) so a failure surfaces as itself (pool timeout → 503), not as a group.
    users, items, orders = await asyncio.gather(
        _aggregate(db, gate, Q.stats_users),
        _aggregate(db, gate, Q.stats_items),
        _aggregate(db, gate, Q.stats_orders),
    )
    return StatsOut(
        users=users["users"],
        active_users=users["active_users"],
        items=items["items"],
        orders=orders["orders"],
        orders_placed=orders["orders_placed"],
        revenue_cents=orders["revenue_cents"],
    )


@get("/stats", tags=["stats"], guards=ADMIN, security=SECURITY, responses=problems(401, 403))
async def stats(state: State) -> StatsOut:
    """Admins: counts of users, items and orders, and the revenue of placed orders (≤ 10 s stale)."""
    return await STATS.get(state.cache, lambda: shop_stats(state.db))
