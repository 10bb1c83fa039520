from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="OrderLineIn")


@_attrs_define
class OrderLineIn:
    """One line of a new order; the price comes from the catalog, never from the client.

    Attributes:
        item_id (UUID):
        quantity (int): Units of the item (1-1000).
    """

    item_id: UUID
    quantity: int

    def to_dict(self) -> dict[str, Any]:
        item_id = str(self.item_id)

        quantity = self.quantity

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "item_id": item_id,
                "quantity": quantity,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        item_id = UUID(d.pop("item_id"))

        quantity = d.pop("quantity")

        order_line_in = cls(
            item_id=item_id,
            quantity=quantity,
        )

        return order_line_in
