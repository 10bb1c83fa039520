from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OrderLineOut")


@_attrs_define
class OrderLineOut:
    """
    Attributes:
        item_id (UUID):
        sku (str):
        name (str):
        quantity (int):
        unit_price_cents (int):
        line_total_cents (int):
    """

    item_id: UUID
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        item_id = str(self.item_id)

        sku = self.sku

        name = self.name

        quantity = self.quantity

        unit_price_cents = self.unit_price_cents

        line_total_cents = self.line_total_cents

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "item_id": item_id,
                "sku": sku,
                "name": name,
                "quantity": quantity,
                "unit_price_cents": unit_price_cents,
                "line_total_cents": line_total_cents,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        item_id = UUID(d.pop("item_id"))

        sku = d.pop("sku")

        name = d.pop("name")

        quantity = d.pop("quantity")

        unit_price_cents = d.pop("unit_price_cents")

        line_total_cents = d.pop("line_total_cents")

        order_line_out = cls(
            item_id=item_id,
            sku=sku,
            name=name,
            quantity=quantity,
            unit_price_cents=unit_price_cents,
            line_total_cents=line_total_cents,
        )

        order_line_out.additional_properties = d
        return order_line_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
