from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProfileUpdate")


@_attrs_define
class ProfileUpdate:
    """Changes to the caller's own profile; changing `email` requires `current_password`.

    Attributes:
        full_name (str | Unset): 1-100 characters, trimmed; one line, not blank.
        email (str | Unset): One plain address, `local@domain.tld` (none of `, ; : < > " ( ) [ ] \\` or spaces):
            trimmed, NFC-normalised and lower-cased; unique.
        current_password (str | Unset):
    """

    full_name: str | Unset = UNSET
    email: str | Unset = UNSET
    current_password: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        full_name = self.full_name

        email = self.email

        current_password = self.current_password

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if full_name is not UNSET:
            field_dict["full_name"] = full_name
        if email is not UNSET:
            field_dict["email"] = email
        if current_password is not UNSET:
            field_dict["current_password"] = current_password

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        full_name = d.pop("full_name", UNSET)

        email = d.pop("email", UNSET)

        current_password = d.pop("current_password", UNSET)

        profile_update = cls(
            full_name=full_name,
            email=email,
            current_password=current_password,
        )

        return profile_update
