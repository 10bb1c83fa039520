from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ItemUpdate")


@_attrs_define
class ItemUpdate:
    """Changes to an item; absent fields stay as they are (none of them may be null).

    Attributes:
        sku (str | Unset): Stock-keeping unit: letters, digits and `._/-`, starting with a letter or digit.
        name (str | Unset): 1-200 characters, trimmed; one line, not blank.
        description (str | Unset): Up to 5000 characters; may span lines.
        price_cents (int | Unset): An amount of money in cents.
        stock (int | Unset):
    """

    sku: str | Unset = UNSET
    name: str | Unset = UNSET
    description: str | Unset = UNSET
    price_cents: int | Unset = UNSET
    stock: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        sku = self.sku

        name = self.name

        description = self.description

        price_cents = self.price_cents

        stock = self.stock

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if sku is not UNSET:
            field_dict["sku"] = sku
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if price_cents is not UNSET:
            field_dict["price_cents"] = price_cents
        if stock is not UNSET:
            field_dict["stock"] = stock

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sku = d.pop("sku", UNSET)

        name = d.pop("name", UNSET)

        description = d.pop("description", UNSET)

        price_cents = d.pop("price_cents", UNSET)

        stock = d.pop("stock", UNSET)

        item_update = cls(
            sku=sku,
            name=name,
            description=description,
            price_cents=price_cents,
            stock=stock,
        )

        return item_update
