"""HTTP surface of accounts: `/auth/*` and `/users/*`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, RequestBody, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from storefront.accounts import service, sessions
from storefront.accounts.guards import AUTHENTICATED, SECURITY, CallerRequest, admin_only
from storefront.accounts.limits import AuthLimits
from storefront.accounts.schemas import (
    Accepted,
    AccountDeletion,
    AdminUserUpdate,
    EmailTokenIn,
    LoginForm,
    LoginIn,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetIn,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    Role,
    TokenPair,
    UserOut,
)
from storefront.web.client_ip import ClientIp, client_network
from storefront.web.conventions import DEFAULT_PAGE_SIZE, FORM, SMALL_BODY_BYTES
from storefront.web.openapi import BODY, problems
from storefront.web.pagination import Cursor, PageLimit
from storefront.web.responses import Encoded
from storefront.web.routes import delete, get, patch, post
from storefront.web.schemas import LINE, Page
from storefront.web.state import AppState, AppStateDep, AuthSettingsDep, DatabaseDep

NO_STORE = CacheControlHeader(no_store=True)
AuthLimitsDep = NamedDependency[AuthLimits]


@dataclass
class LoginOperation(Operation):
    """Documents the OAuth2 password form next to the JSON body, so Swagger UI's Authorize works."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.content[FORM] = OpenAPIMediaType(schema=_form_schema())


def _form_schema() -> Schema:
    """The OpenAPI schema of `LoginForm`, from msgspec's JSON Schema of it (flat: strings only)."""
    form = msgspec.json.schema(LoginForm)["$defs"]["LoginForm"]
    properties: dict[str, Schema | Reference] = {
        name: Schema(
            type=OpenAPIType.STRING,
            description=prop.get("description"),
            max_length=prop.get("maxLength"),
            pattern=prop.get("pattern"),
            enum=prop.get("enum"),
            format="password" if name == "password" else None,  # type: ignore[arg-type]
            **({"default": prop["default"]} if "default" in prop else {}),
        )
        for name, prop in form["properties"].items()
    }
    return Schema(
        type=OpenAPIType.OBJECT, required=form["required"], properties=properties, additional_properties=False
    )


def _auth_limits(app_state: AppState) -> AuthLimits:
    """The account limits, for the handlers that keep to one dependency (`app_state`)."""
    return AuthLimits(app_state.limiter, app_state.settings.limits)


def _ip(request: Request[Any, Any, Any], app_state: AppState) -> str:
    """The caller's network as limits key it, for the handlers that keep to one dependency (`app_state`)."""
    return client_network(request.scope, app_state.settings.limits)


class AuthController(Controller):
    """Register, log in, rotate and revoke tokens."""

    path = "/auth"
    tags = ["auth"]
    cache_control = NO_STORE
    # Refused with 413 on Content-Length before a byte is read (or as soon as a chunked body passes it).
    request_max_body_size = SMALL_BODY_BYTES

    @post("/register", status_code=202, responses=problems(*BODY))  # 429: REGISTER_RATE_LIMIT_PER_HOUR
    async def register(
        self,
        db: DatabaseDep,
        auth: AuthSettingsDep,
        auth_limits: AuthLimitsDep,
        client_ip: ClientIp,
        data: JSONBody[RegisterIn],
    ) -> Accepted:
        """Create a customer account: a welcome message with an email verification link follows. The
        answer is the same 202 when the email already has an account (its owner is told instead), so
        it reveals nobody's account."""
        return await service.register(db, auth, auth_limits, client_ip, data)

    @post(
        "/login",
        status_code=200,
        responses=problems(401, *BODY),
        opt={"form_media_types": (FORM,)},
        operation_class=LoginOperation,
    )
    async def login(
        self,
        db: DatabaseDep,
        auth: AuthSettingsDep,
        auth_limits: AuthLimitsDep,
        client_ip: ClientIp,
        data: JSONBody[LoginIn],
    ) -> TokenPair:
        """Exchange email and password (JSON, or the OAuth2 password form) for a token pair."""
        return await service.login(db, auth, auth_limits, client_ip, data.email, data.password)

    @post("/refresh", status_code=200, responses=problems(401, *BODY))
    async def refresh(self, app_state: AppStateDep, data: JSONBody[RefreshIn]) -> TokenPair:
        """Rotate a refresh token; reusing a rotated-out token revokes its whole session."""
        return await sessions.refresh(app_state.db, app_state.settings.auth, data.refresh_token)

    @post(
        "/logout",
        status_code=204,
        guards=AUTHENTICATED,
        security=SECURITY,
        responses=problems(401, *BODY),
    )
    async def logout(self, request: CallerRequest, db: DatabaseDep, data: JSONBody[RefreshIn]) -> None:
        """End the session: its refresh tokens and every access token carrying its `sid`."""
        await sessions.logout(db, request.user, data.refresh_token)

    @post("/verify-email", status_code=204, responses=problems(*BODY))
    async def verify_email(self, db: DatabaseDep, data: JSONBody[EmailTokenIn]) -> None:
        """Confirm an email address with the token of its link (single-use, 24 hours); 422 when the
        token is invalid, expired, used, or for an address the account no longer has."""
        await service.verify_email(db, data.token)

    @post(
        "/verify-email/resend",
        status_code=202,
        guards=AUTHENTICATED,
        security=SECURITY,
        responses=problems(401, 409),
    )
    async def resend_verification(self, request: CallerRequest, app_state: AppStateDep) -> Accepted:
        """Send the caller a new verification link (older links stop working); 409 once verified;
        VERIFY_EMAIL_RATE_LIMIT_PER_HOUR per account."""
        limits = _auth_limits(app_state)
        return await service.resend_verification(app_state.db, app_state.settings.auth, limits, request.user)

    @post("/password-reset", status_code=202, responses=problems(*BODY))
    async def request_password_reset(
        self, request: Request[Any, Any, Any], app_state: AppStateDep, data: JSONBody[PasswordResetIn]
    ) -> Accepted:
        """Email a password-reset link (single-use, 30 minutes) if an account has this email. The
        answer is the same either way; PASSWORD_RESET_RATE_LIMIT_PER_HOUR per email (and ×4 per IP)."""
        limits = _auth_limits(app_state)
        auth = app_state.settings.auth
        return await service.request_password_reset(app_state.db, auth, limits, _ip(request, app_state), data.email)

    @post("/password-reset/confirm", status_code=204, responses=problems(*BODY))
    async def confirm_password_reset(self, app_state: AppStateDep, data: JSONBody[PasswordResetConfirm]) -> None:
        """Set a new password with the token of a reset link: every session of the account is
        signed out, every other reset link dies and its failed logins are forgotten; 422 when the
        token is invalid, expired or used."""
        await service.confirm_password_reset(app_state.db, _auth_limits(app_state), data)


class UsersController(Controller):
    """The caller's own account, and user management for admins."""

    path = "/users"
    tags = ["users"]
    guards = AUTHENTICATED
    security = SECURITY
    request_max_body_size = SMALL_BODY_BYTES

    @get("/me", cache_control=NO_STORE, responses=problems(401))
    async def me(self, request: CallerRequest) -> Encoded[UserOut]:
        """The caller's account."""
        return Encoded(request.user.user)

    @patch("/me", cache_control=NO_STORE, responses=problems(401, 409, *BODY))
    async def update_me(self, request: CallerRequest, app_state: AppStateDep, data: JSONBody[ProfileUpdate]) -> UserOut:
        """Change `full_name`, or `email` together with `current_password`: the new email is
        unverified until its link is used, and the old one is told of the change;
        EMAIL_CHANGE_RATE_LIMIT_PER_HOUR per account. Checks of `current_password` are limited like
        failed logins (LOGIN_RATE_LIMIT_PER_MINUTE)."""
        limits, ip = _auth_limits(app_state), _ip(request, app_state)
        return await service.update_me(app_state.db, app_state.settings.auth, limits, ip, request.user, data)

    @post("/me/password", status_code=204, cache_control=NO_STORE, responses=problems(401, *BODY))
    async def change_password(
        self, request: CallerRequest, app_state: AppStateDep, data: JSONBody[PasswordChange]
    ) -> None:
        """Set a new password; every other session is revoked, this one is kept. Checks of
        `current_password` are limited like failed logins (LOGIN_RATE_LIMIT_PER_MINUTE)."""
        limits, ip = _auth_limits(app_state), _ip(request, app_state)
        await service.change_password(app_state.db, limits, ip, request.user, data)

    @delete("/me", status_code=204, cache_control=NO_STORE, responses=problems(401, 409, *BODY))
    async def delete_me(self, request: CallerRequest, app_state: AppStateDep, data: JSONBody[AccountDeletion]) -> None:
        """Soft-delete the caller's account, confirmed with `current_password` (a wrong one is 422 on
        that field, limited like failed logins); never the last active admin."""
        limits, ip = _auth_limits(app_state), _ip(request, app_state)
        await service.delete_me(app_state.db, limits, ip, request.user, data)

    @get("/", guards=[admin_only], responses=problems(401, 403, 422))
    async def list_users(
        self,
        db: DatabaseDep,
        limit: PageLimit = DEFAULT_PAGE_SIZE,
        cursor: Cursor = None,
        q: Annotated[
            str | None, QueryParameter(max_length=200, pattern=LINE, description="Substring of email or name.")
        ] = None,
        role: FromQuery[Role | None] = None,
        is_active: FromQuery[bool | None] = None,
    ) -> Page[UserOut]:
        """Admins: every non-deleted user, newest first, keyset-paginated."""
        return await service.list_users(db, limit, cursor, q, role, is_active)

    @get("/{user_id:uuid}", responses=problems(401, 404))
    async def get_user(self, request: CallerRequest, db: DatabaseDep, user_id: FromPath[UUID]) -> UserOut:
        """A user: the caller themself, or anyone for an admin."""
        return await service.get_user(db, request.user, user_id)

    @patch("/{user_id:uuid}", guards=[admin_only], responses=problems(401, 403, 404, 409, *BODY))
    async def update_user(self, db: DatabaseDep, user_id: FromPath[UUID], data: JSONBody[AdminUserUpdate]) -> UserOut:
        """Admins: change a user's name, role or activity."""
        return await service.admin_update(db, user_id, data)

    @delete("/{user_id:uuid}", status_code=204, guards=[admin_only], responses=problems(401, 403, 404, 409))
    async def delete_user(self, db: DatabaseDep, user_id: FromPath[UUID]) -> None:
        """Admins: soft-delete a user (not the last active admin)."""
        await service.delete_user(db, user_id)
