"""The admin stats: shop-wide counters, cached in Valkey on the SHOP generation (bumped by item
writes, orders and cancels; see `catalog/cached.py`).

The three aggregates (users, items, orders) are independent, so they run concurrently, each on its
own pooled connection; a per-pool gate caps stats at STATS_CONNECTIONS connections in total, however
many stats requests arrive at once, so they can never starve the pool.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

import asyncpg

from storefront.catalog.cached import SHOP
from storefront.orders.queries import OrderQueries as Q
from storefront.orders.schemas import StatsOut
from storefront.platform.cached import CachedView
from storefront.platform.db import Database
from storefront.platform.sql import Row
from storefront.platform.valkey import ValkeyClient

STATS_CONNECTIONS = 3
STATS = CachedView[StatsOut]("stats:v1", ttl=10, value_type=StatsOut, generation=SHOP)
_gates: WeakKeyDictionary[Database, asyncio.Semaphore] = WeakKeyDictionary()


async def _aggregate(db: Database, gate: asyncio.Semaphore, query: Row[()]) -> asyncpg.Record:
    async with gate, db.acquire() as conn:
        return await query(conn)


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


async def cached_stats(db: Database, valkey: ValkeyClient) -> StatsOut:
    """The stats, at most 10 s stale and fresh again after any write that changes them."""
    return await STATS.get(valkey, lambda: shop_stats(db))
