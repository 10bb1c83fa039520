"""Authentication and role guards: they run before the body is parsed (401/403 before 400/422).

Part of the accounts seam: controllers of other domains use `AUTHENTICATED`, `ADMIN`, `SECURITY`
and `CallerRequest` from here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from storefront.accounts.caller import Caller
from storefront.accounts.queries import AccountQueries as Q
from storefront.accounts.schemas import UserOut
from storefront.accounts.security import decode_access_token
from storefront.accounts.tokens import bearer_token, decoded_ids
from storefront.errors import EmailNotVerified, Forbidden, Unauthenticated
from storefront.platform.readcache import View
from storefront.web.state import AppState

AnyConnection = ASGIConnection[Any, Any, Any, Any]
SESSION = View("session")
CALLER_BYTES = 1024  # about what a cached caller costs (its strings, the Structs, the key)


async def authenticated(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """Verify the access token and its live session with one indexed lookup; put the caller in scope."""
    state = AppState.of(connection)
    token = bearer_token(connection.scope)  # type: ignore[arg-type]
    if token is None:
        raise Unauthenticated("A bearer access token is required.")
    # Decoded once already by the outer layer (for the rate-limit key), if it ran.
    ids = decoded_ids(connection.scope, token)  # type: ignore[arg-type]
    user_id, session_id = ids or decode_access_token(state.settings.auth, token)
    connection.scope["user"] = await _caller(state, session_id, user_id)
    connection.scope["user_id"] = str(user_id)  # type: ignore[typeddict-unknown-key]


async def _caller(state: AppState, session_id: UUID, user_id: UUID) -> Caller:
    """The live session's caller: from this worker's memory when it holds it, else one indexed
    lookup (kept until the session or its account changes: migration 0006's triggers)."""
    key = SESSION.key(session_id)
    cached: Caller | None = state.cache.get(SESSION, key)
    if cached is not None and cached.user.id == user_id:
        return cached
    epoch = state.cache.begin()
    async with state.db.acquire() as conn:
        row = await Q.authenticate_session(conn, session_id, user_id)
    if row is None:
        raise Unauthenticated("The session was revoked or the account is inactive.")
    caller = Caller(UserOut.from_row(row), session_id)
    state.cache.put(key, caller, CALLER_BYTES, epoch, tags=(f"user:{user_id}",))  # the account's
    return caller


def admin_only(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """After `authenticated`: only admins pass; customers get 403."""
    if not connection.scope["user"].is_admin:
        raise Forbidden("This operation is for admins only.")


def email_verified(connection: AnyConnection, _: BaseRouteHandler) -> None:
    """After `authenticated`: only accounts whose email is verified pass; others get 403
    `email-not-verified` (so throwaway accounts cannot hold stock, OWASP API6:2023)."""
    if not connection.scope["user"].user.email_verified:
        raise EmailNotVerified("Verify your email address first: follow the link we sent to it.")


CallerRequest = Request[Caller, Any, Any]
"""What a guarded handler takes to know its caller: `request.user` is the `Caller` that
`authenticated` put in scope. Not a dependency: Litestar resolves two or more dependencies of one
handler in an anyio task group, which costs several times one (docs/performance.md), so handlers
keep to one."""
AUTHENTICATED = [authenticated]
ADMIN = [authenticated, admin_only]
SECURITY: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}]
