"""HTTP surface of accounts: `/auth/*` and `/users/*`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from storefront.accounts import service
from storefront.accounts.guards import ADMIN, AUTHENTICATED, SECURITY, Current, admin_only, current_user
from storefront.accounts.schemas import (
    AdminUserUpdate,
    LoginIn,
    PasswordChange,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    Role,
    TokenPair,
    UserOut,
)
from storefront.openapi import BODY, problems
from storefront.pagination import Cursor, PageLimit
from storefront.ratelimit import client_ip
from storefront.schemas import Page

FORM = "application/x-www-form-urlencoded"
NO_STORE = CacheControlHeader(no_store=True)


@dataclass
class LoginOperation(Operation):
    """Documents the OAuth2 password form next to the JSON body, so Swagger UI's Authorize works."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            text = Schema(type=OpenAPIType.STRING)
            self.request_body.content[FORM] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["username", "password"],
                    properties={
                        "username": Schema(type=OpenAPIType.STRING, description="The account's email."),
                        "password": Schema(type=OpenAPIType.STRING, format="password"),  # type: ignore[arg-type]
                        "grant_type": Schema(type=OpenAPIType.STRING, enum=["password"]),
                        "scope": text,
                        "client_id": text,
                        "client_secret": text,
                    },
                )
            )


AnyRequest = Request[Any, Any, Any]


def _ip(request: AnyRequest) -> str:
    return client_ip(request.scope, request.app.state.settings.limits.trusted_proxies)  # type: ignore[arg-type]


def _created(user: UserOut) -> Response[UserOut]:
    return Response(user, status_code=201, headers={"Location": f"/api/v1/users/{user.id}"})


class AuthController(Controller):
    """Register, log in, rotate and revoke tokens."""

    path = "/auth"
    tags = ["auth"]
    cache_control = NO_STORE

    @post("/register", status_code=201, responses=problems(409, *BODY))  # 429: REGISTER_RATE_LIMIT_PER_HOUR
    async def register(self, request: AnyRequest, state: State, data: JSONBody[RegisterIn]) -> Response[UserOut]:
        """Create a customer account."""
        return _created(await service.register(state.db, state.auth_limits, _ip(request), data))

    @post(
        "/login",
        status_code=200,
        responses=problems(401, *BODY),
        opt={"form_media_types": (FORM,)},
        operation_class=LoginOperation,
    )
    async def login(self, request: AnyRequest, state: State, data: JSONBody[LoginIn]) -> TokenPair:
        """Exchange email and password (JSON, or the OAuth2 password form) for a token pair."""
        return await service.login(
            state.db, state.settings.auth, state.auth_limits, _ip(request), data.email, data.password
        )

    @post("/refresh", status_code=200, responses=problems(401, *BODY))
    async def refresh(self, state: State, data: JSONBody[RefreshIn]) -> TokenPair:
        """Rotate a refresh token; reusing a rotated-out token revokes its whole session."""
        return await service.refresh(state.db, state.settings.auth, data.refresh_token)

    @post(
        "/logout",
        status_code=204,
        guards=AUTHENTICATED,
        security=SECURITY,
        dependencies={"current": Provide(current_user, sync_to_thread=False)},
        responses=problems(401, *BODY),
    )
    async def logout(self, state: State, current: Current, data: JSONBody[RefreshIn]) -> None:
        """End the session: its refresh tokens and every access token carrying its `sid`."""
        await service.logout(state.db, current, data.refresh_token)


class UsersController(Controller):
    """The caller's own account, and user management for admins."""

    path = "/users"
    tags = ["users"]
    guards = AUTHENTICATED
    security = SECURITY
    dependencies = {"current": Provide(current_user, sync_to_thread=False)}

    @get("/me", cache_control=NO_STORE, responses=problems(401))
    async def me(self, current: Current) -> UserOut:
        """The caller's account."""
        return current.user

    @patch("/me", cache_control=NO_STORE, responses=problems(401, 409, *BODY))
    async def update_me(self, state: State, current: Current, data: JSONBody[ProfileUpdate]) -> UserOut:
        """Change `full_name`, or `email` together with `current_password`."""
        return await service.update_me(state.db, current, data)

    @post("/me/password", status_code=204, cache_control=NO_STORE, responses=problems(401, *BODY))
    async def change_password(self, state: State, current: Current, data: JSONBody[PasswordChange]) -> None:
        """Set a new password; every other session is revoked, this one is kept."""
        await service.change_password(state.db, current, data)

    @delete("/me", status_code=204, cache_control=NO_STORE, responses=problems(401, 409))
    async def delete_me(self, state: State, current: Current) -> None:
        """Soft-delete the caller's account (not the last active admin)."""
        await service.delete_user(state.db, current.id)

    @get("/", guards=[admin_only], responses=problems(401, 403, 422))
    async def list_users(
        self,
        state: State,
        limit: PageLimit = 20,
        cursor: Cursor = None,
        q: Annotated[str | None, QueryParameter(max_length=200, description="Substring of email or name.")] = None,
        role: FromQuery[Role | None] = None,
        is_active: FromQuery[bool | None] = None,
    ) -> Page[UserOut]:
        """Admins: every non-deleted user, newest first, keyset-paginated."""
        return await service.list_users(state.db, limit, cursor, q, role, is_active)

    @get("/{user_id:uuid}", responses=problems(401, 404))
    async def get_user(self, state: State, current: Current, user_id: FromPath[UUID]) -> UserOut:
        """A user: the caller themself, or anyone for an admin."""
        return await service.get_user(state.db, current, user_id)

    @patch("/{user_id:uuid}", guards=[admin_only], responses=problems(401, 403, 404, 409, *BODY))
    async def update_user(self, state: State, user_id: FromPath[UUID], data: JSONBody[AdminUserUpdate]) -> UserOut:
        """Admins: change a user's name, role or activity."""
        return await service.admin_update(state.db, user_id, data)

    @delete("/{user_id:uuid}", status_code=204, guards=[admin_only], responses=problems(401, 403, 404, 409))
    async def delete_user(self, state: State, user_id: FromPath[UUID]) -> None:
        """Admins: soft-delete a user (not the last active admin)."""
        await service.delete_user(state.db, user_id)


__all__ = ["ADMIN", "AuthController", "UsersController"]
