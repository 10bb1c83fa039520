"""The login and registration limits of DESIGN §2: their policies, keys and 429s."""

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
    """Failed logins per account (and ×4 per address), registrations per address; 0 turns one off."""

    def __init__(self, limiter: RateLimiter, limits: LimitSettings) -> None:
        self.limiter = limiter
        per_minute = limits.login_per_minute
        self.login_account = Policy("login", per_minute, 60) if per_minute else None
        self.login_ip = Policy("login-ip", per_minute * 4, 60) if per_minute else None
        self.register = Policy("register", limits.register_per_hour, 3600) if limits.register_per_hour else None

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
