"""The login and registration limits of DESIGN §2: their policies, keys and 429s."""

from __future__ import annotations

from storefront.errors import RateLimited
from storefront.platform.ratelimit import Decision, Policy, RateLimiter, limit_headers
from storefront.platform.settings import LimitSettings


def raise_if_denied(policy: Policy, decision: Decision) -> None:
    """429 problem with `Retry-After` and the draft headers when the decision is a denial."""
    if not decision.allowed:
        raise RateLimited(decision.retry_after, headers=limit_headers(policy, decision))


class AuthLimits:
    """Failed logins per account (and ×4 per address), registrations per address; 0 turns one off."""

    def __init__(self, limiter: RateLimiter, limits: LimitSettings) -> None:
        self.limiter = limiter
        per_minute = limits.login_per_minute
        self.login_account = Policy("login", per_minute, 60) if per_minute else None
        self.login_ip = Policy("login-ip", per_minute * 4, 60) if per_minute else None
        self.register = Policy("register", limits.register_per_hour, 3600) if limits.register_per_hour else None

    def _login_keys(self, email: str, ip: str) -> list[str]:
        return [f"rl:login:acct:{email}", f"rl:login:ip:{ip}"]

    async def before_login(self, email: str, ip: str) -> None:
        """429 before any password work when the account or the address has no failures left."""
        if self.login_account is None or self.login_ip is None:
            return
        policies = [self.login_account, self.login_ip]
        decision = await self.limiter.check(self._login_keys(email, ip), policies, commit=False, fallback=True)
        raise_if_denied(self.login_account, decision)

    async def login_failed(self, email: str, ip: str) -> None:
        """Count one failure against the account and the address."""
        if self.login_account is None or self.login_ip is None:
            return
        policies = [self.login_account, self.login_ip]
        await self.limiter.check(self._login_keys(email, ip), policies, commit=True, fallback=True)

    async def login_succeeded(self, email: str) -> None:
        """A successful login clears the account's failures (not the address's)."""
        if self.login_account is not None:
            await self.limiter.reset(f"rl:login:acct:{email}")

    async def before_register(self, ip: str) -> None:
        """Take one registration from the address's hourly bucket, or 429."""
        if self.register is None:
            return
        decision = await self.limiter.check([f"rl:register:ip:{ip}"], [self.register], commit=True, fallback=True)
        raise_if_denied(self.register, decision)
