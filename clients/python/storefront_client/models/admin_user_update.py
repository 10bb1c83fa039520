from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="AdminUserUpdate")


@_attrs_define
class AdminUserUpdate:
    """What an admin may change on any account.

    Attributes:
        full_name (str | Unset): 1-100 characters, trimmed; one line, not blank.
        role (Role | Unset): What an account may do: a `customer` shops, an `admin` also manages the catalog and the
            users.
        is_active (bool | Unset):
    """

    full_name: str | Unset = UNSET
    role: Role | Unset = UNSET
    is_active: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        full_name = self.full_name

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        is_active = self.is_active

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if full_name is not UNSET:
            field_dict["full_name"] = full_name
        if role is not UNSET:
            field_dict["role"] = role
        if is_active is not UNSET:
            field_dict["is_active"] = is_active

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        full_name = d.pop("full_name", UNSET)

        _role = d.pop("role", UNSET)
        role: Role | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = Role(_role)

        is_active = d.pop("is_active", UNSET)

        admin_user_update = cls(
            full_name=full_name,
            role=role,
            is_active=is_active,
        )

        return admin_user_update
