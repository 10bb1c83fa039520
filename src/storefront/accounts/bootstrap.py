"""The first admin: `FIRST_ADMIN_EMAIL` / `FIRST_ADMIN_PASSWORD` at start, and `create-admin`.

Neither ever hands admin to an account someone else may have registered with the address: both
create a new account, and only `create-admin --promote` turns an existing one into an admin, when
its owner has verified the address.
"""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg

from storefront.accounts.queries import AccountQueries as Q
from storefront.accounts.schemas import PASSWORD_MAX, PASSWORD_MIN, normalize_email
from storefront.accounts.security import hash_password
from storefront.platform.settings import Settings

log = logging.getLogger("storefront.admin")
NAME = "Administrator"
ACTIVE_ADMIN = "an active admin"


class BootstrapError(RuntimeError):
    """The admin cannot be created or promoted as asked; the message says why in one line."""


def _state(account: asyncpg.Record) -> str:
    """What an existing account is, in a few words."""
    if account["deleted"]:
        return "a deleted account"
    if not account["is_active"]:
        return f"a deactivated {account['role']}"
    return ACTIVE_ADMIN if account["role"] == "admin" else "a customer"


async def account_state(dsn: str, email: str) -> str | None:
    """What the account with this email is (`a customer`, `an active admin`…), or None when none has it."""
    connection = await asyncpg.connect(dsn)
    try:
        account = await Q.get_account_by_email(connection, normalize_email(email))
    finally:
        await connection.close()
    return None if account is None else _state(account)


async def _create(dsn: str, email: str, password: str, full_name: str) -> UUID | None:
    """A new admin account's id, or None when any account (a deleted one included) has the email."""
    if "@" not in email or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BootstrapError(f"an admin needs a valid email and a password of {PASSWORD_MIN}-{PASSWORD_MAX} characters")
    password_hash = await hash_password(password)
    connection = await asyncpg.connect(dsn)
    try:
        return await Q.insert_admin(connection, email, full_name, password_hash)  # type: ignore[no-any-return]
    finally:
        await connection.close()


async def ensure_admin(dsn: str, email: str, password: str, full_name: str = NAME) -> UUID:
    """Create a new admin account and return its id; BootstrapError when the email or password is
    unfit, or when any account (a deleted one included) already has the email."""
    email = normalize_email(email)
    user_id = await _create(dsn, email, password, full_name)
    if user_id is None:
        raise BootstrapError(f"{email} already has an account; nothing changed")
    return user_id


async def promote_admin(dsn: str, email: str) -> UUID:
    """Make the existing, active account with this verified email an admin and revoke its sessions
    (a token issued to a customer never becomes an admin token); its password is left alone."""
    email = normalize_email(email)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            user_id = await _promote(connection, email)
            await Q.revoke_user_sessions(connection, user_id)
    finally:
        await connection.close()
    log.warning("promoted an existing account to admin; its sessions are revoked", extra={"email": email})
    return user_id


async def _promote(connection: asyncpg.Connection, email: str) -> UUID:
    account = await Q.get_account_by_email(connection, email)
    if account is None:
        raise BootstrapError(f"no account has the email {email}; run create-admin without --promote to create one")
    if account["deleted"] or not account["is_active"] or account["role"] == "admin":
        raise BootstrapError(f"{email} is {_state(account)}; only an active customer can be promoted")
    if not account["email_verified"]:
        raise BootstrapError(f"{email} is not verified: its owner must confirm the address before it can be promoted")
    user_id = await Q.promote_to_admin(connection, account["id"])
    if user_id is None:  # changed since it was read
        raise BootstrapError(f"{email} changed while being promoted; nothing changed, try again")
    return user_id  # type: ignore[no-any-return]


async def ensure_first_admin(dsn: str, settings: Settings) -> None:
    """FIRST_ADMIN_EMAIL / FIRST_ADMIN_PASSWORD, when both are set: create that admin when no account
    has the email, do nothing when it is already an active admin, else BootstrapError (the start
    fails: a start never promotes, re-activates or undeletes an account)."""
    email, password = settings.first_admin_email, settings.first_admin_password
    if not (email and password):
        return
    if await account_state(dsn, email) is None and await _create(dsn, normalize_email(email), password, NAME):
        log.info("created the first admin", extra={"email": normalize_email(email)})
        return
    # Someone has the address (or another instance starting at once created the admin just now).
    state = await account_state(dsn, email)
    if state != ACTIVE_ADMIN:
        raise BootstrapError(
            f"FIRST_ADMIN_EMAIL={normalize_email(email)} belongs to {state}, not an active admin: a start never "
            "promotes, re-activates or undeletes an account (see `create-admin --promote`, or unset FIRST_ADMIN_EMAIL)"
        )
