"""Authentication and role guards: they run before the body is parsed (401/403 before 400/422)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from storefront.accounts.schemas import UserOut
from storefront.accounts.security import decode_access_token
from storefront.db import load_queries
from storefront.errors import Forbidden, Unauthenticated

Q = load_queries("accounts")


class CurrentUser(msgspec.Struct, frozen=True):
    """The authenticated caller and the session (`sid`) their token belongs to."""

    user: UserOut
    session_id: UUID

    @property
    def id(self) -> UUID:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The token of an `Authorization: Bearer …` header (never the query string), else 401."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer access token is required.")
    return token.strip()


async def authenticated(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Verify the access token and its live session with one indexed lookup; put the caller in scope."""
    state = connection.app.state
    token = bearer_token(connection)
    decoded = connection.scope.get("auth")  # decoded once already by the rate limiter, if it ran
    if decoded is not None and decoded[0] == token:
        user_id, session_id = decoded[1], decoded[2]
    else:
        user_id, session_id = decode_access_token(state.settings.auth, token)
    async with state.db.acquire() as db:
        row = await db.fetchrow(Q.authenticate_session, session_id, user_id)
    if row is None:
        raise Unauthenticated("The session was revoked or the account is inactive.")
    connection.scope["user"] = CurrentUser(UserOut.from_row(row), session_id)
    connection.scope["user_id"] = str(user_id)  # type: ignore[typeddict-unknown-key]


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """After `authenticated`: only admins pass; customers get 403."""
    if not connection.scope["user"].is_admin:
        raise Forbidden("This operation is for admins only.")


def current_user(request: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    """The one cheap dependency handlers use to receive the caller (set by `authenticated`)."""
    return request.scope["user"]  # type: ignore[no-any-return]


Current = NamedDependency[CurrentUser]
AUTHENTICATED = [authenticated]
ADMIN = [authenticated, admin_only]
SECURITY: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}]
