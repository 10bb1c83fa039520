"""Email links: verification and password reset. Their tokens (only the hash stored, named by
purpose), the messages that carry them, spending them once, and purging the expired ones."""

from __future__ import annotations

import asyncpg

from storefront.accounts import emails
from storefront.accounts.caller import Caller
from storefront.accounts.limits import AuthLimits
from storefront.accounts.queries import AccountQueries as Q
from storefront.accounts.schemas import Accepted, PasswordResetConfirm, UserOut
from storefront.accounts.security import hash_password, new_email_token, refresh_token_hash
from storefront.accounts.strength import require_strong
from storefront.errors import Conflict, ValidationFailed
from storefront.platform.db import Database, purge_in_batches
from storefront.platform.outbox import enqueue
from storefront.platform.settings import AuthSettings

BAD_EMAIL_TOKEN = "is invalid, expired or already used"
RESET_ACCEPTED = Accepted(
    detail="If an account has this email, a link to reset its password is on its way; it works for "
    f"{emails.RESET_LIFETIME}."
)
# A token's purpose is named as the kind of the message that carries it.
VERIFY_PURPOSE, RESET_PURPOSE = emails.VERIFY_EMAIL, emails.RESET_PASSWORD


async def queue_verification(conn: asyncpg.Connection, auth: AuthSettings, user: UserOut) -> None:
    """In the caller's transaction: retire the user's live verification links, store a new one's
    hash and queue the message that carries it (no name: the address is not verified yet)."""
    nonce, token_hash = new_email_token(auth.secret_key)
    await Q.retire_email_tokens(conn, user.id, VERIFY_PURPOSE)
    await Q.insert_email_token(conn, token_hash, user.id, VERIFY_PURPOSE, user.email, float(emails.VERIFY_TTL_SECONDS))
    await enqueue(conn, emails.VERIFY_EMAIL, user.email, {"nonce": nonce})


async def verify_email(db: Database, token: str) -> None:
    """Spend a verification token: the address it was sent to is verified, if still the account's."""
    async with db.transaction() as conn:
        row = await Q.use_email_token(conn, refresh_token_hash(token), VERIFY_PURPOSE)
        if row is None or await Q.mark_email_verified(conn, row["user_id"], row["email"]) is None:
            raise ValidationFailed.on("token", BAD_EMAIL_TOKEN)
        await Q.retire_email_tokens(conn, row["user_id"], VERIFY_PURPOSE)


async def resend_verification(db: Database, auth: AuthSettings, limits: AuthLimits, caller: Caller) -> Accepted:
    """A new verification link for the caller's address (older ones die); 409 once verified."""
    if caller.user.email_verified:
        raise Conflict("This email address is already verified.")
    await limits.before_verify_resend(str(caller.id), caller.user.email)
    async with db.transaction() as conn:
        await queue_verification(conn, auth, caller.user)
    detail = f"A new verification link is on its way to {caller.user.email}; it works for {emails.VERIFY_LIFETIME}."
    return Accepted(detail=detail)


async def request_password_reset(db: Database, auth: AuthSettings, limits: AuthLimits, ip: str, email: str) -> Accepted:
    """Queue a reset link if an active account has `email`; the same answer, after the same work
    (one statement), whether or not one does."""
    await limits.before_password_reset(email, ip)
    if not await limits.may_mail(email):  # the address has had its share of mail: the same answer
        return RESET_ACCEPTED
    nonce, token_hash = new_email_token(auth.secret_key)
    async with db.transaction() as conn:
        ttl = float(emails.RESET_TTL_SECONDS)
        await Q.request_password_reset(conn, email, token_hash, ttl, nonce, RESET_PURPOSE, emails.RESET_PASSWORD)
    return RESET_ACCEPTED


async def confirm_password_reset(db: Database, limits: AuthLimits, data: PasswordResetConfirm) -> None:
    """Set the new password from a reset link: the token and every other reset token die, every
    session of the account is revoked, a notice goes to its address, and its failed logins are
    forgotten."""
    token_hash = refresh_token_hash(data.token)
    async with db.acquire() as conn:
        live = await Q.find_email_token(conn, token_hash, RESET_PURPOSE)
    if live is None:  # checked before hashing, so a made-up token costs a query, not argon2
        raise ValidationFailed.on("token", BAD_EMAIL_TOKEN)
    require_strong("new_password", data.new_password, live["account_email"], live["full_name"])
    password_hash = await hash_password(data.new_password)
    async with db.transaction() as conn:
        row = await Q.use_email_token(conn, token_hash, RESET_PURPOSE)
        user = None if row is None else await Q.reset_password(conn, row["user_id"], password_hash, row["email"])
        if row is None or user is None:
            raise ValidationFailed.on("token", BAD_EMAIL_TOKEN)
        await Q.retire_email_tokens(conn, row["user_id"], RESET_PURPOSE)
        await Q.revoke_user_sessions(conn, row["user_id"])
        await enqueue(conn, emails.PASSWORD_CHANGED, user["email"], {"name": user["full_name"]})
    await limits.clear_failed_logins(user["email"])


async def purge_email_tokens(db: Database) -> int:
    """Delete the email tokens that expired over a day ago; how many."""
    return await purge_in_batches(db, Q.purge_email_tokens, 10_000)
