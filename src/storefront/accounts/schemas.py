"""Request and response Structs of the accounts domain."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from storefront.errors import invalid
from storefront.platform.mail import MAX_ADDRESS_LENGTH, addr_spec_pattern
from storefront.web.patterns import explained
from storefront.web.schemas import FORBIDDEN_IN_LINE, NAME, RequestStruct, ResponseStruct

# One plain address (`local@domain.tld`): no display name, list, group, quoting or comment, so it
# is exactly one recipient (see `platform.mail`, which refuses anything else again when sending).
EMAIL_PATTERN = explained(
    rf"^ *{addr_spec_pattern(FORBIDDEN_IN_LINE)} *$(?!\n)",
    'must be one plain address, local@domain.tld, without spaces or any of , ; : < > " ( ) [ ] \\',
)
Email = Annotated[
    str,
    Meta(
        min_length=5,
        max_length=MAX_ADDRESS_LENGTH,
        pattern=EMAIL_PATTERN,
        description='One plain address, `local@domain.tld` (none of `, ; : < > " ( ) [ ] \\` or spaces): '
        "trimmed, NFC-normalised and lower-cased; unique.",
        examples=["ada@example.com"],
    ),
]
PASSWORD_MIN, PASSWORD_MAX = 8, 128
Password = Annotated[
    str,
    Meta(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description=f"{PASSWORD_MIN}-{PASSWORD_MAX} characters, any Unicode; one the strength estimator finds easy"
        " to guess, or built from the account's email or name, is a 422.",
    ),
]
AnyPassword = Annotated[str, Meta(max_length=1024)]
FULL_NAME_MAX = 100
FullName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=FULL_NAME_MAX,
        pattern=NAME,
        description=f"1-{FULL_NAME_MAX} characters, trimmed; one line, not blank.",
        examples=["Ada Lovelace"],
    ),
]


class Role(StrEnum):
    """What an account may do: a `customer` shops, an `admin` also manages the catalog and the users."""

    CUSTOMER = "customer"
    ADMIN = "admin"


RefreshToken = Annotated[str, Meta(min_length=1, max_length=512)]
EmailToken = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `token` query parameter of the emailed link.",
    ),
]


def normalize_email(email: str) -> str:
    """Emails are trimmed, NFC-normalised (`e\u0301` and `\u00e9` are one letter) and lower-cased."""
    return unicodedata.normalize("NFC", email.strip()).lower()


class RegisterIn(RequestStruct):
    """A new customer account."""

    email: Email
    password: Password
    full_name: FullName

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email)
        self.full_name = self.full_name.strip()


class LoginForm(RequestStruct):
    """The OAuth2 password grant form, as Swagger UI's Authorize sends it."""

    username: Email
    password: AnyPassword
    grant_type: Literal["password"] = "password"
    scope: str = ""
    client_id: str = ""
    client_secret: str = ""


class LoginIn(RequestStruct):
    """Email and password as JSON (the OAuth2 password form is accepted too)."""

    email: Email
    password: AnyPassword

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email)

    @classmethod
    def from_form(cls, fields: dict[str, str]) -> LoginIn:
        """The OAuth2 password grant form (`username`, `password`, optional grant_type/scope/client_*)."""
        form = msgspec.convert(fields, LoginForm)
        return cls(email=form.username, password=form.password)


class RefreshIn(RequestStruct):
    """A refresh token to rotate or to revoke."""

    refresh_token: RefreshToken


class ProfileUpdate(RequestStruct):
    """Changes to the caller's own profile; changing `email` requires `current_password`."""

    full_name: FullName | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType = msgspec.UNSET
    current_password: AnyPassword | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.full_name is not msgspec.UNSET:
            self.full_name = self.full_name.strip()
        if self.email is not msgspec.UNSET:
            self.email = normalize_email(self.email)
            if self.current_password is msgspec.UNSET:
                raise invalid("current_password", "required to change the email")


class PasswordChange(RequestStruct):
    """The current password and the new one."""

    current_password: AnyPassword
    new_password: Password


class AccountDeletion(RequestStruct):
    """The current password, confirming the caller's own deletion."""

    current_password: AnyPassword


class EmailTokenIn(RequestStruct):
    """The token of an email verification link."""

    token: EmailToken


class PasswordResetIn(RequestStruct):
    """The email of the account whose password to reset."""

    email: Email

    def __post_init__(self) -> None:
        self.email = normalize_email(self.email)


class PasswordResetConfirm(RequestStruct):
    """The token of a reset link and the new password."""

    token: EmailToken
    new_password: Password


class AdminUserUpdate(RequestStruct):
    """What an admin may change on any account."""

    full_name: FullName | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.full_name is not msgspec.UNSET:
            self.full_name = self.full_name.strip()


class UserOut(ResponseStruct):
    """A user as the API shows it; the password hash never leaves the database layer."""

    id: UUID
    email: str
    email_verified: bool
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> UserOut:
        """Build from a row with the public user columns (by name)."""
        return cls(
            id=row["id"],
            email=row["email"],
            email_verified=row["email_verified"],
            full_name=row["full_name"],
            role=row["role"],
            is_active=row["is_active"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


class TokenPair(ResponseStruct):
    """An access token (JWT) and the refresh token that renews it."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str


class Accepted(ResponseStruct):
    """A request taken on (202): what happens next, in words."""

    detail: str
