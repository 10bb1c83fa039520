"""Through nginx, two instances keep one set of limits (their buckets live in the one Valkey), and
the client's address is the one nginx saw, never one the client wrote in X-Forwarded-For."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.cluster import Cluster, from_address, running_cluster
from tests.support.http import PASSWORD, register

pytestmark = pytest.mark.anyio
LIMIT = 10
LOGIN_LIMIT = 5
ACCOUNT_LIMIT = 10
LIMITS = {
    "RATE_LIMIT_PER_MINUTE": str(LIMIT),
    "LOGIN_RATE_LIMIT_PER_MINUTE": str(LOGIN_LIMIT),
    "LOGIN_ACCOUNT_RATE_LIMIT_PER_HOUR": str(ACCOUNT_LIMIT),
}


@pytest.fixture(scope="module")
def pair() -> Iterator[Cluster]:
    with running_cluster(2, **LIMITS) as cluster:
        yield cluster


async def _served(cluster: Cluster, number: int) -> float:
    """Requests instance `number` has answered so far (its /metrics, read directly)."""
    async with httpx.AsyncClient(base_url=cluster.instance(number)) as client:
        text = (await client.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("litestar_request_duration_seconds_count") and '"/api/v1/items"' in line
    )


async def test_the_general_limit_holds_across_instances(pair: Cluster) -> None:
    before = [await _served(pair, 1), await _served(pair, 2)]
    async with from_address(pair, "127.0.0.11") as client:
        responses = await asyncio.gather(*(client.get("/api/v1/items") for _ in range(100)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}
    assert 1 <= statuses.count(200) <= LIMIT
    after = [await _served(pair, 1), await _served(pair, 2)]
    assert all(a > b for a, b in zip(after, before, strict=True))  # both instances took a share


async def _wrong_passwords(cluster: Cluster, email: str, addresses: list[str], each: int) -> list[int]:
    """`each` wrong passwords at once from every address, spread over the instances: the statuses."""
    wrong = {"email": email, "password": "not the password"}
    clients = [from_address(cluster, address) for address in addresses]
    try:
        attempts = [c.post("/api/v1/auth/login", json=wrong) for c in clients for _ in range(each)]
        return [r.status_code for r in await asyncio.gather(*attempts)]
    finally:
        for c in clients:
            await c.aclose()


async def test_the_login_limits_hold_across_instances(pair: Cluster) -> None:
    async with from_address(pair, "127.0.0.12") as client:
        user = await register(client)
    # One address, 8 at once (below its general limit): at most 5 reach the password check.
    statuses = await _wrong_passwords(pair, user["email"], ["127.0.1.1"], 8)
    assert set(statuses) <= {401, 429}
    assert 1 <= statuses.count(401) <= LOGIN_LIMIT
    # 24 more addresses × 4 at once: past the account's ceiling each address has one try.
    others = [f"127.0.1.{n}" for n in range(2, 26)]
    statuses = await _wrong_passwords(pair, user["email"], others, 4)
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= ACCOUNT_LIMIT + len(others)
    async with from_address(pair, "127.0.0.13") as owner:  # a network of the owner's own
        right = await owner.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert right.status_code == 200


async def test_the_client_address_is_the_one_nginx_saw(pair: Cluster) -> None:
    async with from_address(pair, "127.0.0.21") as client:
        # A new forged address each time: were any believed, each would be a fresh bucket.
        forged = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in range(LIMIT + 4)]
        statuses = [(await client.get("/api/v1/items", headers=headers)).status_code for headers in forged]
    assert set(statuses) == {200, 429}
    assert statuses.count(200) <= LIMIT  # one bucket: 127.0.0.21's
    async with from_address(pair, "127.0.0.22") as other:
        assert (await other.get("/api/v1/items")).status_code == 200  # not nginx's own address either
    # An access line is written just after its response (once per event-loop pass): wait for it.
    deadline = time.monotonic() + 10
    for _ in range(200):
        if {"127.0.0.21", "127.0.0.22"} <= (clients := _clients(pair)) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert {"127.0.0.21", "127.0.0.22"} <= clients
    assert not any(str(client).startswith("198.51.100.") for client in clients)


def _clients(pair: Cluster) -> set[object]:
    """The client addresses of the access lines of `GET /api/v1/items` so far."""
    return {line.get("client") for line in pair.lines() if line.get("path") == "/api/v1/items"}
