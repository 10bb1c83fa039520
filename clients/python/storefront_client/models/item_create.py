from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ItemCreate")


@_attrs_define
class ItemCreate:
    """A new catalog item.

    Attributes:
        sku (str): Stock-keeping unit: letters, digits and `._/-`, starting with a letter or digit.
        name (str): 1-200 characters, trimmed; one line, not blank.
        price_cents (int): An amount of money in cents.
        stock (int):
        description (str | Unset): Up to 5000 characters; may span lines. Default: ''.
    """

    sku: str
    name: str
    price_cents: int
    stock: int
    description: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        sku = self.sku

        name = self.name

        price_cents = self.price_cents

        stock = self.stock

        description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sku": sku,
                "name": name,
                "price_cents": price_cents,
                "stock": stock,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sku = d.pop("sku")

        name = d.pop("name")

        price_cents = d.pop("price_cents")

        stock = d.pop("stock")

        description = d.pop("description", UNSET)

        item_create = cls(
            sku=sku,
            name=name,
            price_cents=price_cents,
            stock=stock,
            description=description,
        )

        return item_create
