from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ItemOut")


@_attrs_define
class ItemOut:
    """
    Attributes:
        id (UUID):
        sku (str):
        name (str):
        description (str):
        price_cents (int):
        stock (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: UUID
    sku: str
    name: str
    description: str
    price_cents: int
    stock: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        sku = self.sku

        name = self.name

        description = self.description

        price_cents = self.price_cents

        stock = self.stock

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "sku": sku,
                "name": name,
                "description": description,
                "price_cents": price_cents,
                "stock": stock,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        sku = d.pop("sku")

        name = d.pop("name")

        description = d.pop("description")

        price_cents = d.pop("price_cents")

        stock = d.pop("stock")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        item_out = cls(
            id=id,
            sku=sku,
            name=name,
            description=description,
            price_cents=price_cents,
            stock=stock,
            created_at=created_at,
            updated_at=updated_at,
        )

        item_out.additional_properties = d
        return item_out

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
