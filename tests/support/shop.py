"""Helpers the catalog and orders tests share: admin-made items and orders."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

ITEMS = "/api/v1/items"
ORDERS = "/api/v1/orders"
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
