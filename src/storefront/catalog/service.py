"""Catalog rules: unique SKUs, versioned writes with optional preconditions, soft delete, lists;
the cached views refreshed after every committed item write (`catalog_changed`)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from storefront.catalog.cached import (
    ITEM,
    POPULAR,
    POPULAR_ITEMS,
    POPULAR_KEY,
    POPULAR_LOCAL_SECONDS,
    POPULAR_MAX,
    POPULAR_TAG,
    catalog_changed,
)
from storefront.catalog.queries import CatalogQueries as Q
from storefront.catalog.schemas import ItemCreate, ItemOut, ItemUpdate, PopularItem
from storefront.errors import Conflict, NotFound, PreconditionFailed
from storefront.platform.db import Database
from storefront.platform.readcache import ReadCache
from storefront.platform.valkey import ValkeyClient
from storefront.web.pagination import decode_cursor, like_escape, page_of
from storefront.web.schemas import Page, or_none

NO_ITEM = "No such item."
STALE = "The item changed since the ETag you sent (If-Match); fetch it again."
SKU_TAKEN = "An item with this SKU already exists (deleted items keep their SKU)."

Versioned = tuple[ItemOut, int]
"""An item and its version (the ETag's source)."""
EncodedItem = tuple[bytes, int]
"""An item's JSON body and its version."""
ENTRY_OVERHEAD = 200  # bytes a cached entry costs besides its body (key, tuple, bookkeeping)
_encode = msgspec.json.Encoder().encode


def _versioned(row: asyncpg.Record) -> Versioned:
    return ItemOut.from_row(row), row["version"]


async def create_item(db: Database, valkey: ValkeyClient, data: ItemCreate) -> Versioned:
    """Add an item; a taken SKU is 409."""
    try:
        async with db.acquire() as conn:
            row = await Q.insert_item(conn, data.sku, data.name, data.description, data.price_cents, data.stock)
    except asyncpg.UniqueViolationError:
        raise Conflict(SKU_TAKEN) from None
    await catalog_changed(valkey)
    return _versioned(row)


async def get_item(db: Database, item_id: UUID) -> Versioned:
    """A live item and its version; deleted or unknown → 404."""
    async with db.acquire() as conn:
        row = await Q.get_item(conn, item_id)
    if row is None:
        raise NotFound(NO_ITEM)
    return _versioned(row)


async def item_body(db: Database, cache: ReadCache, item_id: UUID) -> EncodedItem:
    """A live item as its JSON body and its version, from this worker's memory when it holds it."""
    key = ITEM.key(item_id)
    cached: EncodedItem | None = cache.get(ITEM, key)
    if cached is not None:
        return cached
    epoch = cache.begin()
    item, version = await get_item(db, item_id)
    body = _encode(item)
    cache.put(key, (body, version), len(body) + ENTRY_OVERHEAD, epoch)
    return body, version


async def _missing_or_stale(conn: asyncpg.Connection, item_id: UUID) -> Exception:
    """Why a conditional write matched no row: 404 when the item is gone, else 412."""
    exists = await Q.get_item_version(conn, item_id)
    return NotFound(NO_ITEM) if exists is None else PreconditionFailed(STALE)


async def update_item(
    db: Database, valkey: ValkeyClient, item_id: UUID, data: ItemUpdate, if_match: list[int] | None
) -> Versioned:
    """Apply the given fields if the item still has one of the `if_match` versions (None: any)."""
    values = (or_none(data.sku), or_none(data.name), or_none(data.description))
    amounts = (or_none(data.price_cents), or_none(data.stock))
    try:
        async with db.acquire() as conn:
            row = await Q.update_item(conn, item_id, *values, *amounts, if_match)
            if row is None:
                raise await _missing_or_stale(conn, item_id)
    except asyncpg.UniqueViolationError:
        raise Conflict(SKU_TAKEN) from None
    await catalog_changed(valkey)
    return _versioned(row)


async def delete_item(db: Database, valkey: ValkeyClient, item_id: UUID, if_match: list[int] | None) -> None:
    """Soft-delete: the item leaves reads and ordering but stays in order history."""
    async with db.acquire() as conn:
        deleted = await Q.delete_item(conn, item_id, if_match)
        if deleted is None:
            raise await _missing_or_stale(conn, item_id)
    await catalog_changed(valkey)


async def list_items(
    db: Database, limit: int, cursor: str | None, q: str | None, in_stock: bool | None
) -> Page[ItemOut]:
    """A keyset page of live items, newest first; `q` matches a substring of the name, any case."""
    after_ts, after_id = decode_cursor(cursor)
    async with db.acquire() as conn:
        if q:
            rows = await Q.search_items(conn, in_stock, after_ts, after_id, limit + 1, like_escape(q))
        else:
            rows = await Q.list_items(conn, in_stock, after_ts, after_id, limit + 1)
    items, next_cursor = page_of(rows, limit, ItemOut.from_row)
    return Page(items=items, next_cursor=next_cursor)


async def popular_items(db: Database, valkey: ValkeyClient, cache: ReadCache, limit: int) -> Page[PopularItem]:
    """The live items most ordered (units, placed orders) in the last 30 UTC days, from the daily
    rollup; the top 50 are cached in Valkey (≤ 60 s behind orders, fresh after item writes) and in
    this worker's memory (POPULAR_LOCAL_SECONDS more), and sliced to `limit`."""
    top: list[PopularItem] | None = cache.get(POPULAR, POPULAR_KEY)
    if top is None:
        epoch = cache.begin()

        async def load() -> list[PopularItem]:
            async with db.acquire() as conn:
                rows = await Q.popular_items(conn, POPULAR_MAX)
            return [PopularItem.from_row(row) for row in rows]

        top = await POPULAR_ITEMS.get(valkey, load)
        size = ENTRY_OVERHEAD * (len(top) + 1)
        cache.put(POPULAR_KEY, top, size, epoch, tags=(POPULAR_TAG,), ttl=POPULAR_LOCAL_SECONDS)
    return Page(items=top[:limit], next_cursor=None)
