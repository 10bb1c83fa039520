"""The shop's cached read models, and the calls writes make to refresh them.

Two generations, because the two views change with different writes:

- CATALOG: item create / edit / delete (`catalog_changed`). The popular list (here) depends on it
  alone: orders and cancels do not refresh it, so its counts lag them by up to its ttl (60 s); at
  ~10 orders/s a list refreshed by every order would be recomputed on almost every read.
- SHOP: item writes and orders and cancels (`shop_changed`). The admin stats (`orders/stats.py`)
  depend on it, so they are fresh after any of those writes.

This module is the catalog's seam: the orders domain imports `SHOP` and `shop_changed` from it, and
nothing else of the catalog.
"""

from __future__ import annotations

import asyncio

from storefront.catalog.schemas import PopularItem
from storefront.platform.cached import CachedView, Generation
from storefront.platform.readcache import View
from storefront.platform.valkey import ValkeyClient

CATALOG = Generation("catalog")
SHOP = Generation("shop")
POPULAR_MAX = 50
# v2: on the CATALOG generation (v1 values carry a SHOP generation number).
POPULAR_ITEMS = CachedView[list[PopularItem]]("popular:v2", ttl=60, value_type=list[PopularItem], generation=CATALOG)
# Each worker's memory, in front of the database (ITEM) and of Valkey (POPULAR). Invalidated by the
# items' trigger (migration 0006): `item:<id>` on any change, `catalog` when the list would show it.
ITEM = View("item")
POPULAR = View("popular")
POPULAR_KEY, POPULAR_TAG = POPULAR.key("top"), "catalog"
POPULAR_LOCAL_SECONDS = 5.0  # on top of the view's ttl: orders show in the list within 65 s


async def catalog_changed(valkey: ValkeyClient) -> None:
    """An item was created, edited or deleted: refresh the popular items and the stats (after the
    write has committed)."""
    await asyncio.gather(CATALOG.bump(valkey), SHOP.bump(valkey))


async def shop_changed(valkey: ValkeyClient) -> None:
    """An order was placed or cancelled: refresh the stats (after the write has committed); the
    popular items catch up within their ttl."""
    await SHOP.bump(valkey)
