"""Request and response Structs of the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from storefront.web.schemas import NAME, TEXT, Cents, Count, RequestStruct, ResponseStruct

Sku = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$(?!\n)",
        description="Stock-keeping unit: letters, digits and `._/-`, starting with a letter or digit.",
        examples=["MUG-BLUE-350"],
    ),
]
ItemName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        pattern=NAME,
        description="1-200 characters, trimmed; one line, not blank.",
        examples=["Blue mug, 350 ml"],
    ),
]
Description = Annotated[str, Meta(max_length=5000, pattern=TEXT, description="Up to 5000 characters; may span lines.")]


class ItemCreate(RequestStruct):
    """A new catalog item."""

    sku: Sku
    name: ItemName
    price_cents: Cents
    stock: Count
    description: Description = ""

    def __post_init__(self) -> None:
        self.name = self.name.strip()


class ItemUpdate(RequestStruct):
    """Changes to an item; absent fields stay as they are (none of them may be null)."""

    sku: Sku | msgspec.UnsetType = msgspec.UNSET
    name: ItemName | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    price_cents: Cents | msgspec.UnsetType = msgspec.UNSET
    stock: Count | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.name is not msgspec.UNSET:
            self.name = self.name.strip()


class ItemOut(ResponseStruct):
    """An item as the catalog shows it."""

    id: UUID
    sku: str
    name: str
    description: str
    price_cents: int
    stock: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ItemOut:
        """Build from an item row (by column name)."""
        return cls(
            id=row["id"],
            sku=row["sku"],
            name=row["name"],
            description=row["description"],
            price_cents=row["price_cents"],
            stock=row["stock"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class PopularItem(ItemOut):
    """An item with the units ordered in placed orders of the last 30 days."""

    units_ordered: int

    @classmethod
    def from_row(cls, row: Any) -> PopularItem:
        """Build from a `popular_items` row (an item row and its `units_ordered`)."""
        return cls(**msgspec.structs.asdict(ItemOut.from_row(row)), units_ordered=row["units_ordered"])
