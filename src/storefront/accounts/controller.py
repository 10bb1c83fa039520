"""HTTP surface of accounts: `/auth/*` and `/users/*`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from storefront.accounts import links, service, sessions
from storefront.accounts.guards import AUTHENTICATED, SECURITY, CallerRequest, admin_only
from storefront.accounts.schemas import (
    Accepted,
    AccountDeletion,
    AdminUserUpdate,
    EmailTokenIn,
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
from storefront.accounts.wiring import AccountsDep
from storefront.web.client_ip import ClientIp
from storefront.web.conventions import DEFAULT_PAGE_SIZE, FORM, SMALL_BODY_BYTES
from storefront.web.openapi import BODY, problems
from storefront.web.pagination import Cursor, PageLimit
from storefront.web.responses import Encoded
from storefront.web.routes import delete, get, patch, post
from storefront.web.schemas import LINE, Page
from storefront.web.state import DatabaseDep

NO_STORE = CacheControlHeader(no_store=True)


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
        accounts: AccountsDep,
        client_ip: ClientIp,
        data: JSONBody[RegisterIn],
    ) -> Accepted:
        """Create a customer account: a welcome message with an email verification link follows. The
        answer is the same 202 when the email already has an account (its owner is told instead), so
        it reveals nobody's account."""
        return await service.register(accounts.db, accounts.auth, accounts.limits, client_ip, data)

    @post(
        "/login",
        status_code=200,
        responses=problems(401, *BODY),
        # The OAuth2 password form (Swagger UI's Authorize) is accepted, documented by the security
        # scheme whose token URL this is and by the docstring, not as a second body: with two,
        # openapi-python-client (0.29) writes a login module that cannot be imported.
        opt={"form_media_types": (FORM,)},
    )
    async def login(
        self,
        accounts: AccountsDep,
        client_ip: ClientIp,
        data: JSONBody[LoginIn],
    ) -> TokenPair:
        """Exchange email and password for a token pair. The OAuth2 password form (`username`,
        `password`, optional `grant_type=password`, `scope`, `client_id`, `client_secret`) is accepted
        too, as the OAuth2PasswordBearer scheme's token URL."""
        db, auth, limits = accounts.db, accounts.auth, accounts.limits
        return await service.login(db, auth, limits, client_ip, data.email, data.password)

    @post("/refresh", status_code=200, responses=problems(401, *BODY))
    async def refresh(self, accounts: AccountsDep, data: JSONBody[RefreshIn]) -> TokenPair:
        """Rotate a refresh token; reusing a rotated-out token revokes its whole session."""
        return await sessions.refresh(accounts.db, accounts.auth, data.refresh_token)

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
        """Confirm an email address with the token of its link (single-use; the message says how long
        it works); 422 when the token is invalid, expired, used, or for an address the account no
        longer has."""
        await links.verify_email(db, data.token)

    @post(
        "/verify-email/resend",
        status_code=202,
        guards=AUTHENTICATED,
        security=SECURITY,
        responses=problems(401, 409),
    )
    async def resend_verification(self, request: CallerRequest, accounts: AccountsDep) -> Accepted:
        """Send the caller a new verification link (older links stop working); 409 once verified;
        VERIFY_EMAIL_RATE_LIMIT_PER_HOUR per account."""
        return await links.resend_verification(accounts.db, accounts.auth, accounts.limits, request.user)

    @post("/password-reset", status_code=202, responses=problems(*BODY))
    async def request_password_reset(
        self, request: Request[Any, Any, Any], accounts: AccountsDep, data: JSONBody[PasswordResetIn]
    ) -> Accepted:
        """Email a password-reset link (single-use; the answer says how long it works) if an account
        has this email. The answer is the same either way; PASSWORD_RESET_RATE_LIMIT_PER_HOUR per
        email (and ×4 per IP)."""
        db, auth, limits = accounts.db, accounts.auth, accounts.limits
        return await links.request_password_reset(db, auth, limits, accounts.network(request), data.email)

    @post("/password-reset/confirm", status_code=204, responses=problems(*BODY))
    async def confirm_password_reset(self, accounts: AccountsDep, data: JSONBody[PasswordResetConfirm]) -> None:
        """Set a new password with the token of a reset link: every session of the account is
        signed out, every other reset link dies and its failed logins are forgotten; 422 when the
        token is invalid, expired or used."""
        await links.confirm_password_reset(accounts.db, accounts.limits, data)


class UsersController(Controller):
    """The caller's own account, and user management for admins."""

    path = "/users"
    tags = ["users"]
    guards = AUTHENTICATED
    security = SECURITY
    request_max_body_size = SMALL_BODY_BYTES

    @get("/me", cache_control=NO_STORE, responses=problems(401))
    async def get_me(self, request: CallerRequest) -> Encoded[UserOut]:
        """The caller's account."""
        return Encoded(request.user.user)

    @patch("/me", cache_control=NO_STORE, responses=problems(401, 409, *BODY))
    async def update_me(self, request: CallerRequest, accounts: AccountsDep, data: JSONBody[ProfileUpdate]) -> UserOut:
        """Change `full_name`, or `email` together with `current_password`: the new email is
        unverified until its link is used, and the old one is told of the change;
        EMAIL_CHANGE_RATE_LIMIT_PER_HOUR per account. Checks of `current_password` are limited like
        failed logins (LOGIN_RATE_LIMIT_PER_MINUTE)."""
        db, auth, limits, ip = accounts.db, accounts.auth, accounts.limits, accounts.network(request)
        return await service.update_me(db, auth, limits, ip, request.user, data)

    @post("/me/password", status_code=204, cache_control=NO_STORE, responses=problems(401, *BODY))
    async def change_password(
        self, request: CallerRequest, accounts: AccountsDep, data: JSONBody[PasswordChange]
    ) -> None:
        """Set a new password; every other session is revoked, this one is kept. Checks of
        `current_password` are limited like failed logins (LOGIN_RATE_LIMIT_PER_MINUTE)."""
        await service.change_password(accounts.db, accounts.limits, accounts.network(request), request.user, data)

    @delete("/me", status_code=204, cache_control=NO_STORE, responses=problems(401, 409, *BODY))
    async def delete_me(self, request: CallerRequest, accounts: AccountsDep, data: JSONBody[AccountDeletion]) -> None:
        """Soft-delete the caller's account, confirmed with `current_password` (a wrong one is 422 on
        that field, limited like failed logins); never the last active admin."""
        await service.delete_me(accounts.db, accounts.limits, accounts.network(request), request.user, data)

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
