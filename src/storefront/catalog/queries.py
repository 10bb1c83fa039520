"""The statements of `sql/queries/catalog.sql`, typed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from storefront.platform.sql import MaybeRow, Queries, Row, Rows, Value


class CatalogQueries(Queries, file="catalog"):
    """Items: writes with their version, keyset lists, search and the popular list."""

    insert_item: Row[str, str, str, int, int]
    get_item: MaybeRow[UUID]
    get_item_version: Value[UUID]
    update_item: MaybeRow[UUID, str | None, str | None, str | None, int | None, int | None, list[int] | None]
    delete_item: Value[UUID, list[int] | None]
    list_items: Rows[bool | None, datetime | None, UUID | None, int]
    search_items: Rows[bool | None, datetime | None, UUID | None, int, str]
    popular_items: Rows[int]
