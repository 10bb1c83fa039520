"""The first admin: `FIRST_ADMIN_EMAIL` / `FIRST_ADMIN_PASSWORD` at start, and `create-admin`."""

from __future__ import annotations

import asyncpg

from storefront.accounts.schemas import normalize_email
from storefront.accounts.security import hash_password
from storefront.config import Settings, SettingsError
from storefront.db import load_queries

Q = load_queries("accounts")


async def ensure_admin(dsn: str, email: str, password: str, full_name: str = "Administrator") -> bool:
    """Create the admin, or promote/reactivate the account with that email; True when created."""
    email = normalize_email(email)
    if "@" not in email or not 8 <= len(password) <= 128:
        raise SettingsError("an admin needs a valid email and a password of 8-128 characters")
    password_hash = await hash_password(password)
    connection = await asyncpg.connect(dsn)
    try:
        return bool(await connection.fetchval(Q.upsert_admin, email, full_name, password_hash))
    finally:
        await connection.close()


async def ensure_first_admin(dsn: str, settings: Settings) -> None:
    """Idempotently bootstrap the admin named by FIRST_ADMIN_EMAIL / FIRST_ADMIN_PASSWORD, if set."""
    if settings.first_admin_email and settings.first_admin_password:
        await ensure_admin(dsn, settings.first_admin_email, settings.first_admin_password)
