"""Two instances behind nginx behave as one service: a write through one is read through the other,
an Idempotency-Key holds across them, a logout on one revokes on the other; a Valkey restart and
an instance stopped under load cost no client an error, and no order is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from tests.support.cluster import Cluster, running_cluster
from tests.support.http import admin, bearer, login, register, verified_customer
from tests.support.services import NO_LIMIT
from tests.support.shop import ITEMS, ORDERS, make_item, order, order_body, sql, stock_of

pytestmark = pytest.mark.anyio
NO_LIMITS = {
    "RATE_LIMIT_PER_MINUTE": NO_LIMIT,
    "LOGIN_RATE_LIMIT_PER_MINUTE": NO_LIMIT,
    "REGISTER_RATE_LIMIT_PER_HOUR": NO_LIMIT,
}


@pytest.fixture(scope="module")
def pair() -> Iterator[Cluster]:
    with running_cluster(2, **NO_LIMITS) as cluster:
        yield cluster


@asynccontextmanager
async def clients(*bases: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    opened = [httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=100)) for base in bases]
    try:
        yield opened
    finally:
        for client in opened:
            await client.aclose()


async def test_a_write_through_one_instance_is_read_through_the_other(pair: Cluster) -> None:
    async with clients(pair.instance(1), pair.instance(2)) as (a, b):
        _, admin_headers = await admin(a, pair.dsn)
        item = await make_item(a, admin_headers, name="Teapot", stock=10)
        _, buyer = await verified_customer(a, pair.dsn)
        assert (await order(a, buyer, (item["id"], 1))).status_code == 201
        seen = await b.get(f"{ITEMS}/{item['id']}")
        assert seen.headers["etag"] == '"2"'  # the order bumped the version
        assert (await b.get(f"{ITEMS}/{item['id']}", headers={"If-None-Match": '"2"'})).status_code == 304
        popular = (await b.get(f"{ITEMS}/popular")).json()["items"]  # cached on B's side now
        assert [i["name"] for i in popular if i["id"] == item["id"]] == ["Teapot"]
        assert (await b.get("/api/v1/stats", headers=admin_headers)).json()["orders"] == 1

        patched = await a.patch(
            f"{ITEMS}/{item['id']}", json={"name": "Kettle"}, headers=admin_headers | {"If-Match": '"2"'}
        )
        assert patched.status_code == 200
        assert patched.headers["etag"] == '"3"'
        assert (await order(a, buyer, (item["id"], 1))).status_code == 201

        fresh = await b.get(f"{ITEMS}/{item['id']}", headers={"If-None-Match": '"2"'})
        assert (fresh.status_code, fresh.headers["etag"], fresh.json()["name"]) == (200, '"4"', "Kettle")
        popular = (await b.get(f"{ITEMS}/popular")).json()["items"]
        assert [i["name"] for i in popular if i["id"] == item["id"]] == ["Kettle"]
        assert (await b.get("/api/v1/stats", headers=admin_headers)).json()["orders"] == 2


async def test_one_idempotency_key_sent_to_both_instances_at_once_places_one_order(pair: Cluster) -> None:
    async with clients(pair.instance(1), pair.instance(2)) as (a, b):
        _, admin_headers = await admin(a, pair.dsn)
        item = await make_item(a, admin_headers, stock=100)
        _, buyer = await verified_customer(a, pair.dsn)
        body = order_body((item["id"], 1))
        for attempt in range(10):
            key = buyer | {"Idempotency-Key": f"pair-{attempt}"}
            first, second = await asyncio.gather(
                a.post(ORDERS, json=body, headers=key), b.post(ORDERS, json=body, headers=key)
            )
            statuses = sorted([first.status_code, second.status_code])
            assert statuses in ([201, 201], [201, 409]), (first.text, second.text)
            if statuses == [201, 201]:  # the later one replayed the first
                assert first.json() == second.json()
                assert "true" in (first.headers.get("idempotent-replayed"), second.headers.get("idempotent-replayed"))
            else:
                busy = first if first.status_code == 409 else second
                assert busy.json()["type"] == "/problems/idempotency-in-progress"
        assert await stock_of(pair.dsn, item["id"]) == [90]
        mine = await a.get(ORDERS, params={"limit": 100}, headers=buyer)
        assert len(mine.json()["items"]) == 10


async def test_a_logout_on_one_instance_revokes_the_token_on_the_other(pair: Cluster) -> None:
    async with clients(pair.instance(1), pair.instance(2)) as (a, b):
        user = await register(a)
        tokens = await login(a, user["email"])
        headers = bearer(tokens["access_token"])
        assert (await b.get("/api/v1/users/me", headers=headers)).status_code == 200
        out = await a.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers)
        assert out.status_code == 204
        assert (await b.get("/api/v1/users/me", headers=headers)).status_code == 401
        assert (
            await b.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        ).status_code == 401


@dataclass
class Load:
    """Buyers ordering one unit at a time and reading the item, through nginx, until stopped."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    item_id: str
    statuses: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)

    async def buyer(self, until: float) -> None:
        while time.monotonic() < until:
            try:
                response = await order(self.client, self.headers, (self.item_id, 1))
                self.statuses.append(response.status_code)
                if response.status_code == 201:
                    self.placed.append(response.json()["id"])
                self.statuses.append((await self.client.get(f"{ITEMS}/{self.item_id}")).status_code)
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))

    async def during(self, event: Callable[[], Awaitable[None]], seconds: float = 4.0, buyers: int = 16) -> None:
        """Run the load for `seconds`; `event` starts one second in."""
        until = time.monotonic() + seconds

        async def later() -> None:
            await asyncio.sleep(1.0)
            await event()

        await asyncio.gather(*(self.buyer(until) for _ in range(buyers)), later())


async def _loaded_shop(cluster: Cluster, client: httpx.AsyncClient) -> Load:
    _, admin_headers = await admin(client, cluster.dsn)
    item = await make_item(client, admin_headers, stock=100_000)
    _, buyer = await verified_customer(client, cluster.dsn)
    return Load(client, buyer, item["id"])


async def _nothing_lost(cluster: Cluster, load: Load) -> None:
    assert load.placed, "no order went through"
    assert await stock_of(cluster.dsn, load.item_id) == [100_000 - len(load.placed)]
    rows = await sql(cluster.dsn, "SELECT order_id::text FROM order_lines WHERE item_id = $1::uuid", load.item_id)
    assert sorted(row["order_id"] for row in rows) == sorted(load.placed)


def _valkey_process(cluster: Cluster) -> psutil.Process:
    url = urlsplit(cluster.info["valkey_url"])
    address = f"{url.hostname}:{url.port}"
    for process in psutil.process_iter(["cmdline"]):
        if any(address in part for part in process.info["cmdline"] or ()):
            return process
    raise AssertionError(f"no valkey-server on {address}")


async def test_a_valkey_restart_under_load_costs_no_errors(pair: Cluster) -> None:
    async with clients(pair.base) as (client,):
        load = await _loaded_shop(pair, client)

        async def kill_valkey() -> None:
            _valkey_process(pair).kill()  # the cluster launcher starts it again on its port

        await load.during(kill_valkey)
        assert load.failures == []
        assert set(load.statuses) <= {200, 201}, load.statuses
        await _nothing_lost(pair, load)
        deadline = time.monotonic() + 10
        while (await client.get("/health/ready")).json()["checks"]["cache"] != "ok":
            assert time.monotonic() < deadline, "Valkey did not come back"
            await asyncio.sleep(0.2)


async def test_an_instance_stopped_under_load_costs_no_errors(pair: Cluster) -> None:
    """Last in this module: it leaves one instance."""
    stopped = psutil.Process(pair.instance_pid(2))
    async with clients(pair.base) as (client,):
        load = await _loaded_shop(pair, client)

        async def stop_instance() -> None:
            os.kill(stopped.pid, signal.SIGTERM)

        await load.during(stop_instance)
        stopped.wait(timeout=30)  # the instance drained and exited
        assert load.failures == []
        assert set(load.statuses) <= {200, 201}, load.statuses
        await _nothing_lost(pair, load)
        assert (await client.get("/health/ready")).status_code == 200  # the other one serves on


async def test_mail_from_both_instances_lands_once_in_the_clusters_sink(pair: Cluster) -> None:
    """Every instance's delivery loop races for the same outbox (and the one stopped by an earlier
    test left its share): each message arrives once, in the one sink `just mail` reads, with its
    link pointing at nginx."""
    from storefront.launch.mailsink import stored_mail

    async with clients(pair.base) as (nginx,):  # an earlier test stopped one instance: nginx knows which
        emails = [f"mail{n}-{time.monotonic_ns()}@example.com" for n in range(10)]
        await asyncio.gather(*(register(nginx, email) for email in emails))
    deadline = time.monotonic() + 20
    while len([m for m in stored_mail(pair.data_dir / "mail", 1000) if m.to in emails]) < len(emails):
        assert time.monotonic() < deadline, "the welcome messages did not all arrive"
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    mine = [m for m in stored_mail(pair.data_dir / "mail", 1000) if m.to in emails]
    assert sorted(m.to for m in mine) == sorted(emails)
    assert all(m.link and m.link.startswith(f"http://localhost:{pair.port}/verify-email?token=") for m in mine)
