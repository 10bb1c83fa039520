"""Login sessions (refresh-token families): their start, rotation with reuse detection, their end.
A session lives at most SESSION_MAX_AGE_SECONDS from its login, whatever the rotations."""

from __future__ import annotations

import time
from datetime import datetime
from uuid import UUID

import asyncpg

from storefront.accounts.caller import Caller
from storefront.accounts.queries import AccountQueries as Q
from storefront.accounts.schemas import TokenPair
from storefront.accounts.security import issue_access_token, new_refresh_token, refresh_token_hash
from storefront.errors import Unauthenticated
from storefront.platform.db import Database
from storefront.platform.settings import AuthSettings


async def start(conn: asyncpg.Connection, auth: AuthSettings, user_id: UUID) -> TokenPair:
    """In the caller's transaction: a new session of the user and its first token pair."""
    session_id = await Q.insert_session(conn, user_id)
    return _pair(auth, user_id, session_id, await _store_refresh_token(conn, auth, session_id))


async def _store_refresh_token(conn: asyncpg.Connection, auth: AuthSettings, session_id: UUID) -> tuple[str, datetime]:
    """A new refresh token of the session, and the session's absolute end, which it never outlives."""
    token, token_hash = new_refresh_token()
    ttl, max_age = float(auth.refresh_ttl_seconds), float(auth.session_max_age_seconds)
    return token, await Q.insert_refresh_token(conn, token_hash, session_id, ttl, max_age)


def _pair(auth: AuthSettings, user_id: UUID, session_id: UUID, refresh: tuple[str, datetime]) -> TokenPair:
    """The token pair; the access token expires with the session at the latest."""
    token, session_ends = refresh
    ttl = max(0, min(auth.access_ttl_seconds, int(session_ends.timestamp() - time.time())))
    return TokenPair(
        access_token=issue_access_token(auth, user_id, session_id, ttl),
        token_type="bearer",
        expires_in=ttl,
        refresh_token=token,
    )


async def refresh(db: Database, auth: AuthSettings, token: str) -> TokenPair:
    """Rotate a refresh token; presenting a rotated-out one revokes its whole family. A session
    older than SESSION_MAX_AGE_SECONDS rotates no more."""
    token_hash = refresh_token_hash(token)
    async with db.transaction() as conn:
        row = await Q.rotate_refresh_token(conn, token_hash, float(auth.session_max_age_seconds))
        if row is not None:
            new_token = await _store_refresh_token(conn, auth, row["session_id"])
            return _pair(auth, row["user_id"], row["session_id"], new_token)
    async with db.acquire() as conn:
        known = await Q.find_refresh_token(conn, token_hash)
        if known is not None and known["rotated_at"] is not None:
            await Q.revoke_session(conn, known["session_id"])
            raise Unauthenticated("This refresh token was already used; the session has been revoked.")
    raise Unauthenticated("Invalid, expired or revoked refresh token.")


async def logout(db: Database, caller: Caller, token: str) -> None:
    """Revoke the caller's session (its refresh tokens and access tokens), and the token's, if theirs."""
    async with db.transaction() as conn:
        await Q.revoke_session(conn, caller.session_id)
        known = await Q.find_refresh_token(conn, refresh_token_hash(token))
        if known is not None and known["user_id"] == caller.id:
            await Q.revoke_session(conn, known["session_id"])
