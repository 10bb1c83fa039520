"""The login, registration and password-check limits of DESIGN §2: their policies, keys and 429s."""

from __future__ import annotations

from storefront.errors import RateLimited
from storefront.platform.ratelimit import Decision, Policy, RateLimiter, limit_headers
from storefront.platform.settings import LimitSettings


def raise_if_denied(policy: Policy, decision: Decision) -> None:
    """429 problem with `Retry-After` and the draft headers when the decision is a denial."""
    if not decision.allowed:
        raise RateLimited(decision.retry_after, headers=limit_headers(policy, decision))


def _account_key(email: str) -> str:
    return f"rl:login:acct:{email}"


def _ip_key(ip: str) -> str:
    return f"rl:login:ip:{ip}"


class AuthLimits:
    """Failed logins per account (and ×4 per address), registrations per address, password-reset
    requests per email (and ×4 per address), verification resends per account; 0 turns one off."""

    def __init__(self, limiter: RateLimiter, limits: LimitSettings) -> None:
        self.limiter = limiter
        per_minute = limits.login_per_minute
        self.login_account = Policy("login", per_minute, 60) if per_minute else None
        self.login_ip = Policy("login-ip", per_minute * 4, 60) if per_minute else None
        self.register = Policy("register", limits.register_per_hour, 3600) if limits.register_per_hour else None
        per_hour = limits.password_reset_per_hour
        self.reset_account = Policy("password-reset", per_hour, 3600) if per_hour else None
        self.reset_ip = Policy("password-reset-ip", per_hour * 4, 3600) if per_hour else None
        resends = limits.verify_email_per_hour
        self.verify_resend = Policy("verify-email", resends, 3600) if resends else None
        # Checks of the current password outside login (password and email changes, deletion) are
        # limited like failed logins, in buckets of their own (OWASP API4:2023, ASVS 5.0 V6.3.1).
        self.password_account = Policy("password-check", per_minute, 60) if per_minute else None
        self.password_ip = Policy("password-check-ip", per_minute * 4, 60) if per_minute else None

    async def before_login(self, email: str, ip: str) -> None:
        """Take one attempt from the account's and the address's buckets, atomically and before any
        password work, or 429: concurrent guesses cannot all slip through before one is counted."""
        if self.login_account is None or self.login_ip is None:
            return
        keys, policies = [_account_key(email), _ip_key(ip)], [self.login_account, self.login_ip]
        decision = await self.limiter.check(keys, policies, commit=True, fallback=True)
        raise_if_denied(self.login_account, decision)

    async def login_succeeded(self, email: str, ip: str) -> None:
        """A right password gives its attempt back: the account's failures are forgotten, the
        address gets its token back (only failures count against either)."""
        if self.login_account is None or self.login_ip is None:
            return
        await self.limiter.reset(_account_key(email))
        await self.limiter.refund(_ip_key(ip), self.login_ip)

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

    async def before_verify_resend(self, user_id: str) -> None:
        """Take one resend from the account's hourly bucket, or 429."""
        if self.verify_resend is None:
            return
        decision = await self.limiter.check(
            [f"rl:verify:acct:{user_id}"], [self.verify_resend], commit=True, fallback=True
        )
        raise_if_denied(self.verify_resend, decision)

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
