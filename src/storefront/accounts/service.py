"""Account rules: registration, login, rotation with reuse detection, revocation, last-admin protection."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from storefront.accounts import emails, links, sessions
from storefront.accounts.caller import Caller
from storefront.accounts.limits import AuthLimits
from storefront.accounts.queries import AccountQueries as Q
from storefront.accounts.schemas import (
    Accepted,
    AccountDeletion,
    AdminUserUpdate,
    PasswordChange,
    ProfileUpdate,
    RegisterIn,
    Role,
    TokenPair,
    UserOut,
)
from storefront.accounts.security import (
    SIGN_IN,
    hash_password,
    needs_rehash,
    new_email_token,
    verify_password,
)
from storefront.accounts.strength import require_strong
from storefront.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from storefront.platform.db import Database, retry_once
from storefront.platform.outbox import enqueue
from storefront.platform.settings import AuthSettings
from storefront.web.pagination import decode_cursor, like_escape, page_of
from storefront.web.schemas import Page, or_none

BAD_CREDENTIALS = "Incorrect email or password."
REGISTER_ACCEPTED = Accepted(
    detail="Check your inbox: a message about this registration is on its way to the address given."
)


async def register(db: Database, auth: AuthSettings, limits: AuthLimits, ip: str, data: RegisterIn) -> Accepted:
    """Create a customer and queue its welcome (with a verification link), or, when the email is
    taken, queue a notice to its owner instead: the same 202 body after the same work (one argon2
    hash, one statement) either way, so the answer tells nobody who has an account."""
    await limits.before_register(ip)
    require_strong("password", data.password, data.email, data.full_name)
    password_hash = await hash_password(data.password)
    nonce, token_hash = new_email_token(auth.secret_key)
    ttl = float(emails.VERIFY_TTL_SECONDS)
    may_mail = await limits.may_mail(data.email)  # spent: the same answer, nothing sent
    async with db.transaction() as conn:
        # The one place registration mail is queued (the welcome or the notice), with the account.
        await Q.register(conn, data.email, data.full_name, password_hash, token_hash, ttl, nonce, may_mail)
    return REGISTER_ACCEPTED


async def check_credentials(db: Database, email: str, password: str) -> UUID | None:
    """The user id for a right password on an active account, else None (same work either way)."""
    async with db.acquire() as conn:
        row = await Q.get_credentials(conn, email)
    ok = await verify_password(row["password_hash"] if row else None, password, SIGN_IN)
    if row is None or not ok or not row["is_active"]:
        return None
    if needs_rehash(row["password_hash"]):
        new_hash = await hash_password(password)
        async with db.acquire() as conn:
            await Q.set_password_hash(conn, row["id"], new_hash)
    return row["id"]  # type: ignore[no-any-return]


async def _tell_owner_of_failed_logins(db: Database, limits: AuthLimits, email: str) -> None:
    """Queue the notice to the account with `email`, if there is one: one statement either way, so
    the answer and its timing say nothing about whether it exists."""
    if await limits.may_mail(email):
        async with db.acquire() as conn:
            await Q.queue_account_notice(conn, email, emails.FAILED_LOGINS)


async def login(db: Database, auth: AuthSettings, limits: AuthLimits, ip: str, email: str, password: str) -> TokenPair:
    """A new session for valid credentials; one 401 body for every failure; 429 before any hashing
    once the account × network (or the network) has used up its failed attempts, or while the
    account is past its ceiling and this network has had its try of the minute."""
    attempt = await limits.before_login(email, ip)
    if attempt.notify_owner:
        await _tell_owner_of_failed_logins(db, limits, email)
    attempt.raise_if_refused()
    user_id = await check_credentials(db, email, password)
    if user_id is None:
        raise Unauthenticated(BAD_CREDENTIALS)
    await limits.login_succeeded(attempt)
    async with db.transaction() as conn:
        return await sessions.start(conn, auth, user_id)


async def _require_password(db: Database, limits: AuthLimits, ip: str, user_id: UUID, password: str) -> None:
    """The caller's current password, checked like a login: 429 before any hashing once the account
    or the address has used up its checks, 422 on `current_password` when wrong."""
    await limits.before_password_check(str(user_id), ip)
    async with db.acquire() as conn:
        password_hash = await Q.get_password_hash(conn, user_id)
    if not await verify_password(password_hash, password):
        raise ValidationFailed.on("current_password", "is incorrect")
    await limits.password_check_passed(str(user_id), ip)


async def change_password(db: Database, limits: AuthLimits, ip: str, caller: Caller, data: PasswordChange) -> None:
    """Set a new password, revoke every other session (the caller's stays) and tell the owner."""
    await _require_password(db, limits, ip, caller.id, data.current_password)
    require_strong("new_password", data.new_password, caller.user.email, caller.user.full_name)
    new_hash = await hash_password(data.new_password)
    async with db.transaction() as conn:
        await Q.set_password_hash(conn, caller.id, new_hash)
        await Q.revoke_other_sessions(conn, caller.id, caller.session_id)
        name = caller.user.full_name if caller.user.email_verified else None  # see `emails`: no name unverified
        await enqueue(conn, emails.PASSWORD_CHANGED, caller.user.email, {"name": name})


async def update_me(
    db: Database, auth: AuthSettings, limits: AuthLimits, ip: str, caller: Caller, data: ProfileUpdate
) -> UserOut:
    """Change the caller's name, or email (with the current password). A new email is unverified:
    a link goes to it and a notice to the old one, in the transaction of the change; reset links
    sent to the old address die, and so do the caller's other sessions. 429 before any change once
    the account's email changes or either address's mail are spent."""
    if data.email is not msgspec.UNSET and data.email != caller.user.email:
        assert isinstance(data.current_password, str)
        await _require_password(db, limits, ip, caller.id, data.current_password)
        await limits.before_email_change(str(caller.id), caller.user.email, data.email)
    try:
        async with db.transaction() as conn:
            row = await Q.update_profile(conn, caller.id, or_none(data.full_name), or_none(data.email))
            if row is None:
                raise NotFound("No such user.")
            user = UserOut.from_row(row)
            if user.email != row["old_email"]:
                await Q.retire_email_tokens(conn, user.id, links.RESET_PURPOSE)
                await Q.revoke_other_sessions(conn, user.id, caller.session_id)
                await links.queue_verification(conn, auth, user)
                name = user.full_name if row["old_verified"] else None  # see `emails`: no name unverified
                notice = {"name": name, "new_email": user.email}
                await enqueue(conn, emails.EMAIL_CHANGED, row["old_email"], notice)
    except asyncpg.UniqueViolationError:
        raise Conflict("An account with this email already exists.") from None
    return user


async def _lock_admins_and(conn: asyncpg.Connection, user_id: UUID) -> tuple[list[UUID], asyncpg.Record]:
    """Lock the active admins, then the target: every path takes them in this one order, so two
    admins changing each other at once queue instead of deadlocking. (admin ids, target row)."""
    admins = [row["id"] for row in await Q.lock_active_admins(conn)]
    target = await Q.get_user_for_update(conn, user_id)
    if target is None:
        raise NotFound("No such user.")
    return admins, target


def _keep_an_admin(admins: list[UUID], user_id: UUID, still_admin: bool) -> None:
    """409 when the change would leave no active admin."""
    if not still_admin and admins == [user_id]:
        raise Conflict("This is the last active admin; promote another admin first.")


async def delete_user(db: Database, user_id: UUID) -> None:
    """Soft delete: inactive, sessions revoked, email reserved, orders kept; never the last admin."""

    async def attempt() -> None:
        async with db.transaction() as conn:
            admins, _ = await _lock_admins_and(conn, user_id)
            _keep_an_admin(admins, user_id, still_admin=False)
            await Q.soft_delete_user(conn, user_id)
            await Q.revoke_user_sessions(conn, user_id)

    await retry_once(attempt)


async def delete_me(db: Database, limits: AuthLimits, ip: str, caller: Caller, data: AccountDeletion) -> None:
    """The caller's own soft delete, once the current password is confirmed."""
    await _require_password(db, limits, ip, caller.id, data.current_password)
    await delete_user(db, caller.id)


async def admin_update(db: Database, user_id: UUID, data: AdminUserUpdate) -> UserOut:
    """Change name, role or activity; never demote or deactivate the last active admin."""

    async def attempt() -> asyncpg.Record | None:
        async with db.transaction() as conn:
            admins, target = await _lock_admins_and(conn, user_id)
            role: Role = target["role"] if data.role is msgspec.UNSET else data.role
            active = target["is_active"] if data.is_active is msgspec.UNSET else data.is_active
            _keep_an_admin(admins, user_id, still_admin=role == "admin" and active)
            row = await Q.admin_update_user(
                conn, user_id, or_none(data.full_name), or_none(data.role), or_none(data.is_active)
            )
            if data.is_active is False:
                await Q.revoke_user_sessions(conn, user_id)
            return row

    return UserOut.from_row(await retry_once(attempt))


async def get_user(db: Database, caller: Caller, user_id: UUID) -> UserOut:
    """A user, to themself or an admin; anyone else (or a deleted user) gets 404."""
    if user_id != caller.id and not caller.is_admin:
        raise NotFound("No such user.")
    async with db.acquire() as conn:
        row = await Q.get_user(conn, user_id)
    if row is None:
        raise NotFound("No such user.")
    return UserOut.from_row(row)


async def list_users(
    db: Database, limit: int, cursor: str | None, q: str | None, role: str | None, is_active: bool | None
) -> Page[UserOut]:
    """A keyset page of non-deleted users, newest first, filtered."""
    after_ts, after_id = decode_cursor(cursor)
    pattern = None if q is None else like_escape(q)
    async with db.acquire() as conn:
        rows = await Q.list_users(conn, pattern, role, is_active, after_ts, after_id, limit + 1)
    items, next_cursor = page_of(rows, limit, UserOut.from_row)
    return Page(items=items, next_cursor=next_cursor)
