from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PasswordResetIn")


@_attrs_define
class PasswordResetIn:
    """The email of the account whose password to reset.

    Attributes:
        email (str): One plain address, `local@domain.tld` (none of `, ; : < > " ( ) [ ] \\` or spaces): trimmed, NFC-
            normalised and lower-cased; unique.
    """

    email: str

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        password_reset_in = cls(
            email=email,
        )

        return password_reset_in
