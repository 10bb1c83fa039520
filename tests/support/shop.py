"""Helpers the catalog and orders tests share: admin-made items and orders."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from storefront.platform.migrations import MIGRATIONS_DIR
from storefront.platform.sql import read_queries

ITEMS = "/api/v1/items"
ORDERS = "/api/v1/orders"
# The statement that filled `item_daily_units` from the orders when its migration ran.
ROLLUP_BACKFILL = read_queries(MIGRATIONS_DIR / "0003_item_daily_units.sql")["backfill_item_daily_units"]
_skus = itertools.count()


def new_sku(prefix: str = "SKU") -> str:
    """A SKU no other test uses."""
    return f"{prefix}-{next(_skus)}"


async def make_item(client: AsyncTestClient[Any], admin_headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Create an item (defaults: price 1000, stock 10) and return its body."""
    body = {"sku": new_sku(), "name": "Thing", "price_cents": 1000, "stock": 10, **fields}
    response = await client.post(ITEMS, json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def order_body(*lines: tuple[str, int]) -> dict[str, Any]:
    """An order body of (item_id, quantity) lines."""
    return {"lines": [{"item_id": item_id, "quantity": quantity} for item_id, quantity in lines]}


async def order(client: AsyncTestClient[Any], headers: dict[str, str], *lines: tuple[str, int]) -> Any:
    """POST an order of (item_id, quantity) lines; returns the response."""
    return await client.post(ORDERS, json=order_body(*lines), headers=headers)


async def stock_of(dsn: str, *item_ids: str) -> list[int]:
    """Current stock of the items, straight from the database (deleted ones included)."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT id::text, stock FROM items WHERE id = ANY($1::uuid[])", list(item_ids))
    finally:
        await connection.close()
    stock = {row["id"]: row["stock"] for row in rows}
    return [stock[item_id] for item_id in item_ids]


async def sql(dsn: str, query: str, *args: Any) -> Any:
    """Run one statement on a fresh connection and return its rows."""
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def units_of(dsn: str, *item_ids: str) -> list[int]:
    """Units the daily rollup holds for each item, over every day."""
    rows = await sql(
        dsn,
        "SELECT item_id::text, sum(units)::bigint AS units FROM item_daily_units "
        "WHERE item_id = ANY($1::uuid[]) GROUP BY item_id",
        list(item_ids),
    )
    units = {row["item_id"]: row["units"] for row in rows}
    return [units.get(item_id, 0) for item_id in item_ids]


async def rebuild_rollup(dsn: str) -> None:
    """Empty `item_daily_units` and fill it again with its migration's backfill."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("TRUNCATE item_daily_units")
            await connection.execute(ROLLUP_BACKFILL)
    finally:
        await connection.close()


async def backdate(dsn: str, days: int, *order_ids: str) -> None:
    """Move orders `days` days into the past, and the rollup with them (rebuilt by the backfill)."""
    await sql(
        dsn,
        "UPDATE orders SET created_at = created_at - make_interval(days => $1) WHERE id = ANY($2::uuid[])",
        days,
        list(order_ids),
    )
    await rebuild_rollup(dsn)
