"""The first admin: `FIRST_ADMIN_EMAIL` / `FIRST_ADMIN_PASSWORD` at start, and `create-admin`."""

from __future__ import annotations

import asyncpg

from storefront.accounts.queries import AccountQueries as Q
from storefront.accounts.schemas import PASSWORD_MAX, PASSWORD_MIN, normalize_email
from storefront.accounts.security import hash_password
from storefront.platform.settings import Settings, SettingsError


async def ensure_admin(dsn: str, email: str, password: str, full_name: str = "Administrator") -> bool:
    """Create the admin, or promote/reactivate the account with that email; True when created."""
    email = normalize_email(email)
    if "@" not in email or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise SettingsError(f"an admin needs a valid email and a password of {PASSWORD_MIN}-{PASSWORD_MAX} characters")
    password_hash = await hash_password(password)
    connection = await asyncpg.connect(dsn)
    try:
        return bool(await Q.upsert_admin(connection, email, full_name, password_hash))
    finally:
        await connection.close()


async def ensure_first_admin(dsn: str, settings: Settings) -> None:
    """Idempotently bootstrap the admin named by FIRST_ADMIN_EMAIL / FIRST_ADMIN_PASSWORD, if set."""
    if settings.first_admin_email and settings.first_admin_password:
        await ensure_admin(dsn, settings.first_admin_email, settings.first_admin_password)
