"""Request and response Structs of orders and the admin stats."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from storefront.errors import invalid
from storefront.web.schemas import RequestStruct, ResponseStruct

Quantity = Annotated[int, Meta(ge=1, le=1000, description="Units of the item (1-1000).")]


class OrderStatus(StrEnum):
    """An order is `placed` (its stock is held) until it is `cancelled` (the stock is back)."""

    PLACED = "placed"
    CANCELLED = "cancelled"


class OrderLineIn(RequestStruct):
    """One line of a new order; the price comes from the catalog, never from the client."""

    item_id: UUID
    quantity: Quantity


class OrderIn(RequestStruct):
    """A new order: 1-50 lines, each item at most once."""

    lines: Annotated[list[OrderLineIn], Meta(min_length=1, max_length=50)]

    def __post_init__(self) -> None:
        seen: set[UUID] = set()
        for index, line in enumerate(self.lines):
            if line.item_id in seen:
                raise invalid(f"lines[{index}].item_id", "this item is already on another line")
            seen.add(line.item_id)


class OrderLineOut(ResponseStruct):
    """A line as ordered: sku, name and unit price copied from the item at order time."""

    item_id: UUID
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


_lines = msgspec.json.Decoder(list[OrderLineOut])


class OrderOut(ResponseStruct):
    """An order with its lines."""

    id: UUID
    user_id: UUID
    status: OrderStatus
    lines: list[OrderLineOut]
    total_cents: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> OrderOut:
        """Build from a row with `id, user_id, status, total_cents, created_at, updated_at` and `lines`
        (a JSON array built by the query)."""
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            status=row["status"],
            lines=_lines.decode(row["lines"]),
            total_cents=row["total_cents"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class StatsOut(ResponseStruct):
    """Shop-wide counters for admins."""

    users: int
    active_users: int
    items: int
    orders: int
    orders_placed: int
    revenue_cents: int
