"""The statements of `sql/queries/orders.sql`, typed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from storefront.platform.sql import Execute, MaybeRow, Queries, Row, Rows


class OrderQueries(Queries, file="orders"):
    """Orders with their lines, cancellation, idempotency keys and the stats aggregates."""

    place_order: Row[UUID, list[UUID], list[int]]
    get_order: MaybeRow[UUID]
    list_orders: Rows[datetime | None, UUID | None, int]
    list_user_orders: Rows[UUID, datetime | None, UUID | None, int]
    cancel_order: MaybeRow[UUID, UUID | None]
    get_order_owner: MaybeRow[UUID]
    claim_idempotency_key: Row[UUID, str, bytes, int]
    get_idempotent_response: MaybeRow[UUID, str]
    save_idempotent_response: Execute[UUID, str, int, str, bytes, str | None]
    purge_idempotency_keys: Execute[int]
    stats_users: Row[()]
    stats_items: Row[()]
    stats_orders: Row[()]
