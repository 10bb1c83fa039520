"""The shop-wide views cached in Valkey, and the one call a write makes to refresh them.

Both views are public (nothing per user) and share one generation, which every write that changes
what they show bumps: item create / edit / delete, orders and cancels.
"""

from __future__ import annotations

from storefront.cache import Cache, CachedView, bump_generation
from storefront.catalog.schemas import PopularItem
from storefront.orders.schemas import StatsOut

SHOP = "shop"
POPULAR_MAX = 50
POPULAR = CachedView[list[PopularItem]]("popular:v1", ttl=60, value_type=list[PopularItem], generation=SHOP)
STATS = CachedView[StatsOut]("stats:v1", ttl=10, value_type=StatsOut, generation=SHOP)


async def shop_changed(cache: Cache) -> None:
    """Invalidate the popular items and the stats (after the write has committed)."""
    await bump_generation(cache, SHOP)
