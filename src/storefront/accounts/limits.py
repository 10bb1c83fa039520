"""The account limits: their policies, keys and 429s (logins: `lockout`)."""

from __future__ import annotations

from storefront.accounts.lockout import LoginAttempt, LoginThrottle
from storefront.errors import RateLimited
from storefront.platform.ratelimit import Decision, Policy, RateLimiter, limit_headers
from storefront.platform.settings import LimitSettings


def raise_if_denied(policy: Policy, decision: Decision) -> None:
    """429 problem with `Retry-After` and the draft headers when the decision is a denial."""
    if not decision.allowed:
        raise RateLimited(decision.retry_after, headers=limit_headers(policy, decision))


class AuthLimits:
    """Failed logins (`LoginThrottle`), failed checks of the current password per account (and ×4 per
    network), registrations per network, password-reset requests per email (and ×4 per network),
    verification resends and email changes per account, and messages per recipient (all kinds
    together); 0 turns one off."""

    def __init__(self, limiter: RateLimiter, limits: LimitSettings) -> None:
        self.limiter = limiter
        self.login = LoginThrottle(limiter, limits)
        self.register = Policy("register", limits.register_per_hour, 3600) if limits.register_per_hour else None
        per_hour = limits.password_reset_per_hour
        self.reset_account = Policy("password-reset", per_hour, 3600) if per_hour else None
        self.reset_ip = Policy("password-reset-ip", per_hour * 4, 3600) if per_hour else None
        resends = limits.verify_email_per_hour
        self.verify_resend = Policy("verify-email", resends, 3600) if resends else None
        changes, messages = limits.email_change_per_hour, limits.mail_recipient_per_hour
        self.email_change = Policy("email-change", changes, 3600) if changes else None
        self.mail_recipient = Policy("mail-recipient", messages, 3600) if messages else None
        # Checks of the current password outside login (password and email changes, deletion) are
        # limited like failed logins, in buckets of their own (OWASP API4:2023, ASVS 5.0 V6.3.1).
        per_minute = limits.login_per_minute
        self.password_account = Policy("password-check", per_minute, 60) if per_minute else None
        self.password_ip = Policy("password-check-ip", per_minute * 4, 60) if per_minute else None

    async def before_login(self, email: str, ip: str) -> LoginAttempt:
        """Take one attempt's tokens atomically and before any password work, or 429: concurrent
        guesses cannot all slip through before one is counted (see `LoginThrottle.before`)."""
        return await self.login.before(email, ip)

    async def login_succeeded(self, attempt: LoginAttempt) -> None:
        """A right password gives its attempt back (only failures count)."""
        await self.login.succeeded(attempt)

    async def clear_failed_logins(self, email: str) -> None:
        """Forget the account's failed logins from every network (its password was reset)."""
        await self.login.clear(email)

    async def before_register(self, ip: str) -> None:
        """Take one registration from the address's hourly bucket, or 429."""
        if self.register is None:
            return
        decision = await self.limiter.check([f"rl:register:ip:{ip}"], [self.register], commit=True, fallback=True)
        raise_if_denied(self.register, decision)

    async def before_password_reset(self, email: str, ip: str) -> None:
        """Take one request from the email's and the address's hourly buckets, or 429. Keyed on the
        email as typed, whether or not an account has it: a 429 tells nothing about accounts."""
        if self.reset_account is None or self.reset_ip is None:
            return
        keys = [f"rl:reset:acct:{email}", f"rl:reset:ip:{ip}"]
        decision = await self.limiter.check(keys, [self.reset_account, self.reset_ip], commit=True, fallback=True)
        raise_if_denied(self.reset_account, decision)

    async def before_verify_resend(self, user_id: str, email: str) -> None:
        """Take one resend from the account's hourly bucket and one message from the address's, or 429."""
        await self._before_mail(f"rl:verify:acct:{user_id}", self.verify_resend, [email])

    async def before_email_change(self, user_id: str, old_email: str, new_email: str) -> None:
        """Take one change from the account's hourly bucket and one message from each address's
        (the link to the new one, the notice to the old one), or 429 before anything changes."""
        await self._before_mail(f"rl:email-change:acct:{user_id}", self.email_change, [new_email, old_email])

    async def may_mail(self, *recipients: str) -> bool:
        """May one message go to each of `recipients` now? Takes it from each address's hourly
        budget (every kind of message together), atomically: False, with nothing taken, when one
        is spent. Routes that must not reveal whether an account exists then skip the message
        silently and answer as usual."""
        return (await self._take_messages(recipients)).allowed

    async def _take_messages(self, recipients: list[str] | tuple[str, ...]) -> Decision:
        if self.mail_recipient is None or not recipients:
            return Decision(True, 0, 0)
        keys = [f"rl:mail:to:{recipient}" for recipient in dict.fromkeys(recipients)]
        return await self.limiter.check(keys, [self.mail_recipient] * len(keys), commit=True, fallback=True)

    async def _before_mail(self, account_key: str, policy: Policy | None, recipients: list[str]) -> None:
        """429 unless the account's bucket and then every recipient's budget have a token; a
        recipient's refusal gives the account its token back (nothing was sent)."""
        if policy is not None:
            raise_if_denied(policy, await self.limiter.check([account_key], [policy], commit=True, fallback=True))
        decision = await self._take_messages(recipients)
        if not decision.allowed:
            if policy is not None:
                await self.limiter.refund(account_key, policy)
            assert self.mail_recipient is not None, "only a limit can refuse"
            raise_if_denied(self.mail_recipient, decision)

    async def before_password_check(self, user_id: str, ip: str) -> None:
        """Take one check of the current password from the account's and the address's buckets,
        before any hashing, or 429: a stolen access token cannot guess the password behind it."""
        if self.password_account is None or self.password_ip is None:
            return
        keys, policies = [_password_key(user_id), _password_ip_key(ip)], [self.password_account, self.password_ip]
        decision = await self.limiter.check(keys, policies, commit=True, fallback=True)
        raise_if_denied(self.password_account, decision)

    async def password_check_passed(self, user_id: str, ip: str) -> None:
        """A right password gives its check back, as a right login does: the account's failures are
        forgotten and the address gets its token back."""
        if self.password_account is None or self.password_ip is None:
            return
        await self.limiter.reset(_password_key(user_id))
        await self.limiter.refund(_password_ip_key(ip), self.password_ip)


def _password_key(user_id: str) -> str:
    return f"rl:pw:acct:{user_id}"


def _password_ip_key(ip: str) -> str:
    return f"rl:pw:ip:{ip}"
