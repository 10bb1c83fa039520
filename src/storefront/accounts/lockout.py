"""Failed-login throttling that strangers cannot turn into a lockout (ASVS V6.1.1, V6.3.1).

Each attempt takes a token, before any password work, from the bucket of its account × network
(LOGIN_RATE_LIMIT_PER_MINUTE) and from its network's (×4): guessing from one network stops there
and never spends the owner's attempts from another. The account's own bucket (all networks
together, LOGIN_ACCOUNT_RATE_LIMIT_PER_HOUR) only slows distributed guessing: once it is spent,
each network may try that account once a minute — the first try of a network goes through, so the
owner on a clean network still gets in — and the owner is mailed once per window. A right password
gives its tokens back; a completed password reset moves the account's epoch on, and every bucket
of the account (whose keys carry the epoch) starts empty.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from storefront.errors import RateLimited
from storefront.platform.ratelimit import Decision, Policy, RateLimiter, limit_headers
from storefront.platform.settings import LimitSettings
from storefront.platform.valkey import ValkeyUnavailable

# Beyond the account's ceiling: one attempt a minute per network on that account.
SLOWED = Policy("login-slowed", 1, 60)
# The account's ceiling counts failures per hour, and its owner hears of it at most once per hour.
CEILING_WINDOW = 3600
# An epoch outlives every bucket it names (the longest window is an hour), then starts over.
EPOCH_TTL_SECONDS = 24 * 3600


def _epoch_key(email: str) -> str:
    return f"rl:login:epoch:{email}"


@dataclass
class LoginAttempt:
    """What `LoginThrottle.before` took for one attempt, and what the login must do next."""

    forget: list[str] = field(default_factory=list)
    refund: list[tuple[str, Policy]] = field(default_factory=list)
    notify_owner: bool = False
    refusal: RateLimited | None = None

    def raise_if_refused(self) -> None:
        """429 when this network is slowed on this account (its try of the minute is spent)."""
        if self.refusal is not None:
            raise self.refusal


class LoginThrottle:
    """The login buckets: account × network, network (×4), and the account's slowing ceiling."""

    def __init__(self, limiter: RateLimiter, limits: LimitSettings) -> None:
        self.limiter = limiter
        per_minute, ceiling = limits.login_per_minute, limits.login_account_per_hour
        self.pair = Policy("login", per_minute, 60) if per_minute else None
        self.network = Policy("login-ip", per_minute * 4, 60) if per_minute else None
        self.account = Policy("login-account", ceiling, CEILING_WINDOW) if per_minute and ceiling else None
        self.notice = Policy("login-notice", 1, CEILING_WINDOW)

    async def _take(self, keys: list[str], policies: list[Policy]) -> Decision:
        return await self.limiter.check(keys, policies, commit=True, fallback=True)

    async def _epoch(self, email: str) -> str:
        with contextlib.suppress(ValkeyUnavailable):
            value = await self.limiter.valkey.execute("GET", _epoch_key(email))
            return value.decode() if value else "0"
        return "0"  # Valkey is down: the fallback buckets are per worker anyway

    async def before(self, email: str, network: str) -> LoginAttempt:
        """Take this attempt's tokens before any password work, or 429 when its account × network
        or its network is spent; beyond the account's ceiling the attempt may be refused later
        (`raise_if_refused`), once the owner's notice is decided (`notify_owner`)."""
        attempt = LoginAttempt()
        if self.pair is None or self.network is None:
            return attempt
        base = f"rl:login:{await self._epoch(email)}"
        pair_key, network_key = f"{base}:pair:{network}:{email}", f"rl:login:ip:{network}"
        decision = await self._take([pair_key, network_key], [self.pair, self.network])
        if not decision.allowed:
            raise _refusal(self.pair, decision)
        attempt.forget.append(pair_key)
        attempt.refund.append((network_key, self.network))
        if self.account is None:
            return attempt
        account_key = f"{base}:account:{email}"
        if (await self._take([account_key], [self.account])).allowed:
            attempt.refund.append((account_key, self.account))
            return attempt
        attempt.notify_owner = (await self._take([f"rl:login:notice:{email}"], [self.notice])).allowed
        slowed_key = f"{base}:slowed:{network}:{email}"
        attempt.forget.append(slowed_key)
        slowed = await self._take([slowed_key], [SLOWED])
        if not slowed.allowed:
            attempt.refusal = _refusal(SLOWED, slowed)
        return attempt

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """A right password: this network's failures on the account are forgotten, and the shared
        buckets (the network's, the account's ceiling) get this attempt's tokens back: only
        failures count."""
        await asyncio.gather(
            *(self.limiter.reset(key) for key in attempt.forget),
            *(self.limiter.refund(key, policy) for key, policy in attempt.refund),
        )

    async def clear(self, email: str) -> None:
        """Forget every failed login of the account, from every network (a completed reset)."""
        key = _epoch_key(email)
        with contextlib.suppress(ValkeyUnavailable):
            await self.limiter.valkey.execute("INCR", key)
            await self.limiter.valkey.execute("EXPIRE", key, EPOCH_TTL_SECONDS)


def _refusal(policy: Policy, decision: Decision) -> RateLimited:
    """The 429 problem of a denial, with `Retry-After` and the draft headers."""
    return RateLimited(decision.retry_after, headers=limit_headers(policy, decision))
