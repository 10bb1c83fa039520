"""Order rules: all-or-nothing stock taking, ownership, cancellation with restock; an order placed
at most once per Idempotency-Key; the stats refreshed after every committed order or cancel."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from storefront.accounts.caller import Caller
from storefront.catalog.cached import shop_changed
from storefront.errors import Conflict, FieldError, Forbidden, NotFound, OutOfStock, ValidationFailed
from storefront.orders import idempotency
from storefront.orders.idempotency import Answer, Stored
from storefront.orders.queries import OrderQueries as Q
from storefront.orders.schemas import OrderIn, OrderOut
from storefront.platform.db import Database, retry_once
from storefront.platform.valkey import ValkeyClient
from storefront.web.conventions import JSON
from storefront.web.pagination import decode_cursor, page_of
from storefront.web.schemas import Page

NO_ORDER = "No such order."


async def place_order_in(conn: asyncpg.Connection, user_id: UUID, data: OrderIn) -> OrderOut:
    """On `conn` (inside the caller's transaction, if any): take the stock of every line and record
    the order, in one statement, or change nothing.

    An unknown or deleted item is 422 on its line; any line short of stock is 409 with the item ids.
    """
    item_ids = [line.item_id for line in data.lines]
    quantities = [line.quantity for line in data.lines]
    try:
        row = await Q.place_order(conn, user_id, item_ids, quantities)
    except asyncpg.CheckViolationError as exc:  # the backstop; the verdict should have caught it
        if exc.constraint_name != "items_stock_check":
            raise
        raise OutOfStock([str(item_id) for item_id in item_ids]) from None
    if row["missing_lines"]:
        errors = [
            FieldError(f"lines[{line_no - 1}].item_id", "no such item (unknown or deleted)")
            for line_no in row["missing_lines"]
        ]
        raise ValidationFailed(f"{len(errors)} line(s) name an item that cannot be ordered.", errors=errors)
    if row["short_item_ids"]:
        raise OutOfStock([str(item_id) for item_id in row["short_item_ids"]])
    return OrderOut.from_row(row)


def location(order: OrderOut) -> str:
    """The URL of `order`."""
    return f"/api/v1/orders/{order.id}"


async def place_order(
    db: Database, valkey: ValkeyClient, user_id: UUID, data: OrderIn, key: str | None, request_id: str | None
) -> OrderOut | Answer:
    """Place an order and refresh the stats once it has committed. Without an Idempotency-Key (`key`
    None): the new order, on a pooled connection (one statement is its own transaction). With one:
    the answer stored for the key, the work run at most once (`idempotency.respond_once`), a domain
    error stored as its problem+json carrying `request_id`."""
    if key is None:

        async def attempt() -> OrderOut:
            async with db.acquire() as conn:
                return await place_order_in(conn, user_id, data)

        order = await retry_once(attempt)
        await shop_changed(valkey)
        return order
    return await _place_once(db, valkey, user_id, data, idempotency.parse_key(key), request_id)


async def _place_once(
    db: Database, valkey: ValkeyClient, user_id: UUID, data: OrderIn, key: str, request_id: str | None
) -> Answer:
    async def work(conn: asyncpg.Connection) -> Stored:
        order = await place_order_in(conn, user_id, data)
        return Stored(201, JSON, msgspec.json.encode(order), location(order))

    fingerprint = idempotency.request_hash("place_order", data)
    answer = await idempotency.respond_once(db, user_id, key, fingerprint, work, request_id)
    if answer.stored.status_code == 201 and not answer.replayed:
        await shop_changed(valkey)
    return answer


async def list_orders(
    db: Database, caller: Caller, user_id: UUID | None, limit: int, cursor: str | None
) -> Page[OrderOut]:
    """A keyset page of orders with their lines, in one query: the caller's own, or for an admin
    everyone's (or `user_id`'s)."""
    if not caller.is_admin:
        if user_id is not None and user_id != caller.id:
            raise Forbidden("Customers can list only their own orders.")
        user_id = caller.id
    after_ts, after_id = decode_cursor(cursor)
    async with db.acquire() as conn:
        if user_id is None:
            rows = await Q.list_orders(conn, after_ts, after_id, limit + 1)
        else:
            rows = await Q.list_user_orders(conn, user_id, after_ts, after_id, limit + 1)
    items, next_cursor = page_of(rows, limit, OrderOut.from_row)
    return Page(items=items, next_cursor=next_cursor)


async def get_order(db: Database, caller: Caller, order_id: UUID) -> OrderOut:
    """An order to its owner or an admin; anyone else gets the same 404 as for an unknown id."""
    async with db.acquire() as conn:
        row = await Q.get_order(conn, order_id)
    if row is None or not (caller.is_admin or row["user_id"] == caller.id):
        raise NotFound(NO_ORDER)
    return OrderOut.from_row(row)


async def cancel_order(db: Database, valkey: ValkeyClient, caller: Caller, order_id: UUID) -> OrderOut:
    """`placed` → `cancelled`, the stock put back in the same statement, then the stats refreshed;
    cancelled already → 409."""
    owner = None if caller.is_admin else caller.id

    async def attempt() -> asyncpg.Record | None:
        async with db.acquire() as conn:
            return await Q.cancel_order(conn, order_id, owner)

    row = await retry_once(attempt)
    if row is not None:
        await shop_changed(valkey)
        return OrderOut.from_row(row)
    async with db.acquire() as conn:
        found = await Q.get_order_owner(conn, order_id)
    if found is None or (owner is not None and found["user_id"] != owner):
        raise NotFound(NO_ORDER)
    raise Conflict(f"The order is already {found['status']}; only placed orders can be cancelled.")
