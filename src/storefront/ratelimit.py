"""Token-bucket rate limits (GCRA: a burst of N refilled at N per window), atomic in Valkey.

One Lua script (loaded once, run with EVALSHA) checks — and, when asked, consumes from — one or more
buckets in a single round trip, on Valkey's clock, so every worker and instance shares the buckets.
When Valkey is down the general limit fails open; the login and registration limits fall back to an
in-process limiter (per worker: weaker, never off).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time
from collections.abc import Sequence
from typing import Any

import msgspec
from prometheus_client import Counter
from valkey.exceptions import NoScriptError

from storefront.cache import Cache, CacheUnavailable
from storefront.config import LimitSettings, Network
from storefront.errors import RateLimited

FAIL_OPEN = Counter("storefront_ratelimit_fail_open_total", "General-limit checks let through because Valkey was down")
LOCAL_MAX_KEYS = 50_000

# KEYS: bucket keys. ARGV: commit (0/1), then per key: burst, window in ms.
# Returns {allowed (0/1), remaining (min over keys), retry-after ms (max over keys)}.
GCRA_LUA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local commit = ARGV[1] == '1'
local allowed, remaining, retry = 1, nil, 0
local new_tats = {}
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  local interval = window / burst
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - window
  if allow_at > now then
    allowed = 0
    retry = math.max(retry, allow_at - now)
    remaining = 0
  else
    local left = math.floor((now - allow_at) / interval)
    if remaining == nil or left < remaining then remaining = left end
  end
  new_tats[i] = {new_tat, new_tat - now}
end
if allowed == 1 and commit then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, new_tats[i][1], 'PX', math.max(1, math.ceil(new_tats[i][2])))
  end
end
return {allowed, remaining or 0, math.ceil(retry)}
"""


class Policy(msgspec.Struct, frozen=True):
    """A named limit: `burst` requests per `window` seconds."""

    name: str
    burst: int
    window: int

    @property
    def header(self) -> str:
        """The `RateLimit-Policy` value of the IETF draft."""
        return f'"{self.name}";q={self.burst};w={self.window}'


class Decision(msgspec.Struct, frozen=True):
    """The outcome of one check: allowed or not, what is left, and when to retry."""

    allowed: bool
    remaining: int
    retry_after_ms: int

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait (at least 1 when denied)."""
        return max(1, math.ceil(self.retry_after_ms / 1000)) if not self.allowed else 0

    def header(self, policy: Policy) -> str:
        """The `RateLimit` value of the IETF draft."""
        reset = 0 if self.allowed and self.remaining > 0 else math.ceil(self.retry_after_ms / 1000)
        return f'"{policy.name}";r={self.remaining};t={reset}'


class LocalBuckets:
    """The same GCRA in process memory: the fallback while Valkey is unreachable."""

    def __init__(self) -> None:
        self._tats: dict[str, float] = {}

    def check(self, keys: Sequence[str], policies: Sequence[Policy], commit: bool) -> Decision:
        now = time.monotonic() * 1000
        if len(self._tats) > LOCAL_MAX_KEYS:
            self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        allowed, remaining, retry, new_tats = True, None, 0.0, []
        for key, policy in zip(keys, policies, strict=True):
            window = policy.window * 1000
            interval = window / policy.burst
            new_tat = max(self._tats.get(key, now), now) + interval
            allow_at = new_tat - window
            if allow_at > now:
                allowed, remaining, retry = False, 0, max(retry, allow_at - now)
            else:
                left = math.floor((now - allow_at) / interval)
                remaining = left if remaining is None else min(remaining, left)
            new_tats.append(new_tat)
        if allowed and commit:
            self._tats.update(zip(keys, new_tats, strict=True))
        return Decision(allowed, remaining or 0, math.ceil(retry))

    def forget(self, key: str) -> None:
        self._tats.pop(key, None)


class RateLimiter:
    """Checks buckets in Valkey; `fallback=True` answers from LocalBuckets when Valkey is down."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.sha = hashlib.sha1(GCRA_LUA.encode()).hexdigest()  # noqa: S324 - Valkey names scripts by SHA-1
        self.local = LocalBuckets()

    async def _run(self, keys: Sequence[str], args: list[Any]) -> Any:
        pipe = self.cache.pipe
        try:
            return await pipe.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:  # a fresh or restarted Valkey: load the script once, then go on
            await pipe.execute("SCRIPT", "LOAD", GCRA_LUA)
            return await pipe.execute("EVALSHA", self.sha, len(keys), *keys, *args)

    async def check(self, keys: Sequence[str], policies: Sequence[Policy], *, commit: bool, fallback: bool) -> Decision:
        """All buckets must have a token; with `commit`, an allowed check takes one from each."""
        args: list[Any] = ["1" if commit else "0"]
        for policy in policies:
            args += [policy.burst, policy.window * 1000]
        try:
            allowed, remaining, retry = await self.cache.call(lambda _: self._run(keys, args))
        except CacheUnavailable:
            if fallback:
                return self.local.check(keys, policies, commit)
            FAIL_OPEN.inc()
            return Decision(True, policies[0].burst, 0)
        return Decision(bool(allowed), int(remaining), int(retry))

    async def reset(self, key: str) -> None:
        """Forget a bucket (a successful login clears the account's failures)."""
        self.local.forget(key)
        with contextlib.suppress(CacheUnavailable):
            await self.cache.call(lambda client: client.delete(key))


def peer_address(scope: dict[str, Any]) -> str:
    """The TCP peer's address, or `unknown` when the server did not say."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_ip(scope: dict[str, Any], trusted: tuple[Network, ...]) -> str:
    """The client's IP: the peer, unless the peer is a trusted proxy, then the right-most untrusted
    address of `X-Forwarded-For` (the left-most entries are whatever the client chose to send)."""
    peer = peer_address(scope)
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = b",".join(value for key, value in scope["headers"] if key == b"x-forwarded-for")
    for hop in reversed(forwarded.decode("latin-1").split(",")):
        hop = hop.strip()
        if hop and not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def limit_headers(policy: Policy, decision: Decision) -> dict[str, str]:
    """The draft's `RateLimit-Policy` and `RateLimit` headers for a decision."""
    return {"RateLimit-Policy": policy.header, "RateLimit": decision.header(policy)}


def raise_if_denied(policy: Policy, decision: Decision) -> None:
    """429 problem with `Retry-After` and the draft headers when the decision is a denial."""
    if not decision.allowed:
        raise RateLimited(decision.retry_after, headers=limit_headers(policy, decision))


class AuthLimits:
    """The login and registration limits of DESIGN §2, with their keys."""

    def __init__(self, limiter: RateLimiter, limits: LimitSettings) -> None:
        self.limiter = limiter
        self.trusted = limits.trusted_proxies
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
