"""The shop's cached read models, and the one call a write makes to refresh them.

The popular list (here) and the admin stats (`orders/stats.py`) are public (nothing per user) and
share the SHOP generation, which every write that changes what they show bumps through
`shop_changed`: item create / edit / delete, orders and cancels. This module is the catalog's seam:
the orders domain imports `SHOP` and `shop_changed` from it, and nothing else of the catalog.
"""

from __future__ import annotations

from storefront.catalog.schemas import PopularItem
from storefront.platform.cached import CachedView, Generation
from storefront.platform.valkey import ValkeyClient

SHOP = Generation("shop")
POPULAR_MAX = 50
POPULAR_ITEMS = CachedView[list[PopularItem]]("popular:v1", ttl=60, value_type=list[PopularItem], generation=SHOP)


async def shop_changed(valkey: ValkeyClient) -> None:
    """Invalidate the popular items and the stats (after the write has committed)."""
    await SHOP.bump(valkey)
