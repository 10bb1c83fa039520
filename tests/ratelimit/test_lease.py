"""The general limit in leases, on a real Valkey: exact by count, few calls, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storefront.platform.leases import LeasedLimit
from storefront.platform.ratelimit import Policy, RateLimiter
from storefront.platform.valkey import ValkeyClient
from tests.support.services import Services

pytestmark = pytest.mark.anyio
POLICY = Policy("general", 100, 60)


class CountingLimiter(RateLimiter):
    """The real limiter, counting its lease calls."""

    calls = 0

    async def lease(self, key: str, policy: Policy, wanted: int, returned: int) -> tuple[int, int, int]:
        self.calls += 1
        return await super().lease(key, policy, wanted, returned)


@pytest.fixture
async def limiter(services: Services, clean: None) -> AsyncIterator[CountingLimiter]:
    valkey = ValkeyClient(services.valkey_url)
    await valkey.delete("rl:lease-test")
    try:
        yield CountingLimiter(valkey)
    finally:
        await valkey.close()


async def test_one_worker_admits_exactly_the_limit_in_few_calls(limiter: CountingLimiter) -> None:
    limit = LeasedLimit(limiter, POLICY)
    decisions = [await limit.take("rl:lease-test") for _ in range(300)]
    assert sum(d.allowed for d in decisions) == 100
    assert [d.remaining for d in decisions[:100]] == list(range(99, -1, -1))
    refused = [d for d in decisions if not d.allowed]
    assert all(d.retry_after >= 1 for d in refused)
    # Leases of up to 16 while plenty is left, one call per request near zero; refusals from memory.
    assert limiter.calls <= 20


async def test_two_workers_together_never_exceed_the_limit(limiter: CountingLimiter) -> None:
    one, two = LeasedLimit(limiter, POLICY), LeasedLimit(limiter, POLICY)
    decisions = await asyncio.gather(*((one if i % 2 else two).take("rl:lease-test") for i in range(400)))
    assert sum(d.allowed for d in decisions) == 100


async def test_concurrent_requests_of_one_client_share_a_call(limiter: CountingLimiter) -> None:
    limit = LeasedLimit(limiter, Policy("general", 10_000, 60))
    decisions = await asyncio.gather(*(limit.take("rl:lease-test") for _ in range(32)))
    assert all(d.allowed for d in decisions)
    assert limiter.calls <= 4


async def test_unused_tokens_of_an_expired_lease_go_back(limiter: CountingLimiter) -> None:
    limit = LeasedLimit(limiter, POLICY, ttl=0.05)
    await limit.take("rl:lease-test")
    second = await limit.take("rl:lease-test")  # a lease of 16: 15 held back
    assert second.remaining == 98
    await asyncio.sleep(0.1)
    third = await limit.take("rl:lease-test")
    assert third.remaining == 97  # the 15 came back: only the three requests count
