from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StatsOut")


@_attrs_define
class StatsOut:
    """
    Attributes:
        users (int):
        active_users (int):
        items (int):
        orders (int):
        orders_placed (int):
        revenue_cents (int):
    """

    users: int
    active_users: int
    items: int
    orders: int
    orders_placed: int
    revenue_cents: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        users = self.users

        active_users = self.active_users

        items = self.items

        orders = self.orders

        orders_placed = self.orders_placed

        revenue_cents = self.revenue_cents

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "users": users,
                "active_users": active_users,
                "items": items,
                "orders": orders,
                "orders_placed": orders_placed,
                "revenue_cents": revenue_cents,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        users = d.pop("users")

        active_users = d.pop("active_users")

        items = d.pop("items")

        orders = d.pop("orders")

        orders_placed = d.pop("orders_placed")

        revenue_cents = d.pop("revenue_cents")

        stats_out = cls(
            users=users,
            active_users=active_users,
            items=items,
            orders=orders,
            orders_placed=orders_placed,
            revenue_cents=revenue_cents,
        )

        stats_out.additional_properties = d
        return stats_out

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
