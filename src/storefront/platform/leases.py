"""The general limit in leases: a worker takes up to k tokens of a client's bucket in one call
(`RateLimiter.lease`) and admits that client's next requests from them, so most requests cost no
round trip to Valkey."""

from __future__ import annotations

import asyncio
import math
import time

from storefront.platform.ratelimit import FAIL_OPEN, Decision, Policy, RateLimiter
from storefront.platform.valkey import ValkeyUnavailable


class Lease:
    """What a worker holds of one client's bucket: tokens left, the bucket's remaining at the grant,
    until when the tokens may be used (monotonic seconds), or until when the client is refused."""

    __slots__ = ("expires", "refill", "refused_until", "remaining", "tokens")

    def __init__(self) -> None:
        self.tokens = 0
        self.remaining = 0
        self.expires = 0.0
        self.refused_until = 0.0
        self.refill: asyncio.Future[None] | None = None


class LeasedLimit:
    """One policy over many clients, in leases: a worker takes up to k tokens of a client's bucket
    per call and admits that client's next requests from them without a round trip.

    k is a quarter of what the bucket had left at the last grant, at most `max_lease`: it falls to 1
    as the quota nears zero, where every request is one call and the limit exact. Every admitted
    request took a token from the shared bucket, so the limit is never exceeded by count; a leased
    token may only be used late, within `ttl` seconds of the grant, so within any window a client
    gets at most k − 1 requests more per worker than the limit. Unused tokens of an expired lease go
    back to the bucket with the next call for that client. A client spread over several workers may
    be refused while another worker holds up to k − 1 of its tokens (at most a quarter of what was
    left). A refused client is answered from memory until its retry time: a flood costs no calls.
    """

    MAX_KEYS = 50_000

    def __init__(self, limiter: RateLimiter, policy: Policy, max_lease: int = 16, ttl: float = 1.0) -> None:
        self.limiter = limiter
        self.policy = policy
        self.max_lease = max_lease
        self.ttl = ttl
        self._leases: dict[str, Lease] = {}

    async def take(self, key: str) -> Decision:
        """One request of `key`: from its lease, else from a new one; fails open while Valkey is down."""
        while True:
            lease = self._leases.get(key)
            if lease is None:
                return await self._refill(key, self._new_lease(key), wanted=1)
            now = time.monotonic()
            if lease.tokens > 0 and lease.expires > now:
                lease.tokens -= 1
                return Decision(True, lease.remaining + lease.tokens, 0)
            if lease.refused_until > now:
                return Decision(False, 0, math.ceil((lease.refused_until - now) * 1000))
            if lease.refill is None:
                return await self._refill(key, lease, max(1, min(self.max_lease, lease.remaining // 4)))
            # Another request of this client is asking already: share its answer.
            await asyncio.shield(lease.refill)

    def _new_lease(self, key: str) -> Lease:
        if len(self._leases) >= self.MAX_KEYS:
            now = time.monotonic()
            # Bound the memory: leases past their time go (their unused tokens refill with time).
            self._leases = {
                k: lease
                for k, lease in self._leases.items()
                if max(lease.expires, lease.refused_until) > now or lease.refill is not None
            }
        lease = self._leases[key] = Lease()
        return lease

    async def _refill(self, key: str, lease: Lease, wanted: int) -> Decision:
        lease.refill = done = asyncio.get_running_loop().create_future()
        try:
            granted, remaining, retry = await self.limiter.lease(key, self.policy, wanted, lease.tokens)
        except ValkeyUnavailable:
            FAIL_OPEN.inc()
            return Decision(True, self.policy.burst, 0)
        finally:
            lease.refill = None
            done.set_result(None)
        now = time.monotonic()
        lease.tokens, lease.remaining = max(0, granted - 1), remaining
        if not granted:
            lease.refused_until = now + retry / 1000
            return Decision(False, 0, retry)
        lease.expires = now + self.ttl
        return Decision(True, remaining + lease.tokens, 0)
