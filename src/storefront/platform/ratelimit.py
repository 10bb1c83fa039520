"""Token-bucket rate limits (GCRA: a burst of N refilled at N per window), atomic in Valkey.

One Lua script (loaded once, run with EVALSHA) checks — and, when asked, consumes from — one or more
buckets in a single round trip, on Valkey's clock, so every worker and instance shares the buckets.
When Valkey is down the general limit fails open; the login and registration limits fall back to an
in-process limiter (per worker: weaker, never off).

The general limit is leased (`platform/leases.py`): a worker takes up to k tokens of a client's
bucket in one call and admits that client's next requests from them, so most requests cost no round
trip.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import Sequence
from typing import Any

import msgspec
from prometheus_client import Counter

from storefront.platform.valkey import ValkeyClient, ValkeyUnavailable

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


# KEYS[1]: a bucket. ARGV: burst, window in ms. Gives back one token taken earlier (never more than
# the bucket holds): the time at which the bucket is full again moves one interval earlier.
REFUND_LUA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil then return 0 end
local new_tat = tat - tonumber(ARGV[2]) / tonumber(ARGV[1])
if new_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil(new_tat - now)))
end
return 1
"""


# KEYS[1]: a bucket. ARGV: burst, window in ms, tokens wanted (>= 1), tokens given back (unused ones
# of an expired lease). Takes min(wanted, available) tokens.
# Returns {granted (0: denied), remaining after, retry-after ms}.
LEASE_LUA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local burst, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wanted, returned = tonumber(ARGV[3]), tonumber(ARGV[4])
local interval = window / burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now) - returned * interval
if tat < now then tat = now end
local available = math.floor((now + window - tat) / interval)
if available < 1 then
  if returned > 0 then redis.call('SET', KEYS[1], tat, 'PX', math.max(1, math.ceil(tat - now))) end
  return {0, 0, math.ceil(tat + interval - window - now)}
end
local granted = math.min(wanted, available)
local new_tat = tat + granted * interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil(new_tat - now)))
return {granted, available - granted, 0}
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

    def refund(self, key: str, policy: Policy) -> None:
        """Give back one token taken earlier."""
        if key in self._tats:
            self._tats[key] -= policy.window * 1000 / policy.burst

    def forget(self, key: str) -> None:
        self._tats.pop(key, None)


class RateLimiter:
    """Checks buckets in Valkey; `fallback=True` answers from LocalBuckets when Valkey is down."""

    SHA = hashlib.sha1(GCRA_LUA.encode()).hexdigest()  # noqa: S324 - Valkey names scripts by SHA-1
    REFUND_SHA = hashlib.sha1(REFUND_LUA.encode()).hexdigest()  # noqa: S324
    LEASE_SHA = hashlib.sha1(LEASE_LUA.encode()).hexdigest()  # noqa: S324

    def __init__(self, valkey: ValkeyClient) -> None:
        self.valkey = valkey
        self.local = LocalBuckets()

    async def check(self, keys: Sequence[str], policies: Sequence[Policy], *, commit: bool, fallback: bool) -> Decision:
        """All buckets must have a token; with `commit`, an allowed check takes one from each."""
        args: list[Any] = ["1" if commit else "0"]
        for policy in policies:
            args += [policy.burst, policy.window * 1000]
        try:
            allowed, remaining, retry = await self.valkey.run_script(GCRA_LUA, self.SHA, list(keys), args)
        except ValkeyUnavailable:
            if fallback:
                return self.local.check(keys, policies, commit)
            FAIL_OPEN.inc()
            return Decision(True, policies[0].burst, 0)
        return Decision(bool(allowed), int(remaining), int(retry))

    async def lease(self, key: str, policy: Policy, wanted: int, returned: int) -> tuple[int, int, int]:
        """Take up to `wanted` tokens of one bucket, giving back `returned` unused ones first:
        (granted, remaining after, retry-after ms); granted is 0 when the bucket is empty."""
        args = [policy.burst, policy.window * 1000, wanted, returned]
        granted, remaining, retry = await self.valkey.run_script(LEASE_LUA, self.LEASE_SHA, [key], args)
        return int(granted), int(remaining), int(retry)

    async def refund(self, key: str, policy: Policy) -> None:
        """Give back one token of `key` that a committed check took (the work it guarded was fine)."""
        self.local.refund(key, policy)
        with contextlib.suppress(ValkeyUnavailable):
            await self.valkey.run_script(REFUND_LUA, self.REFUND_SHA, [key], [policy.burst, policy.window * 1000])

    async def reset(self, key: str) -> None:
        """Forget a bucket (a successful login clears the account's failures)."""
        self.local.forget(key)
        with contextlib.suppress(ValkeyUnavailable):
            await self.valkey.delete(key)


def limit_headers(policy: Policy, decision: Decision) -> dict[str, str]:
    """The draft's `RateLimit-Policy` and `RateLimit` headers for a decision."""
    return {"RateLimit-Policy": policy.header, "RateLimit": decision.header(policy)}
