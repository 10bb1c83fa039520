from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="RegisterIn")


@_attrs_define
class RegisterIn:
    """A new customer account.

    Attributes:
        email (str): One plain address, `local@domain.tld` (none of `, ; : < > " ( ) [ ] \\` or spaces): trimmed, NFC-
            normalised and lower-cased; unique.
        password (str): 8-128 characters, any Unicode; one the strength estimator finds easy to guess, or built from the
            account's email or name, is a 422.
        full_name (str): 1-100 characters, trimmed; one line, not blank.
    """

    email: str
    password: str
    full_name: str

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        password = self.password

        full_name = self.full_name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "password": password,
                "full_name": full_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        password = d.pop("password")

        full_name = d.pop("full_name")

        register_in = cls(
            email=email,
            password=password,
            full_name=full_name,
        )

        return register_in
