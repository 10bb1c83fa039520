"""Idempotency-Key on POST /orders: replay, mismatch, in-progress, scoping, what is (not) stored."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from storefront.orders import idempotency, service
from storefront.platform.db import Database
from storefront.platform.settings import Settings
from tests.support.http import admin, assert_problem, verified_customer
from tests.support.shop import ITEMS, ORDERS, make_item, order_body, sql, stock_of

pytestmark = pytest.mark.anyio
MISSING = "00000000-0000-4000-8000-000000000000"


async def _setup(client: Any, dsn: str, stock: int = 10) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """An item, the admin's headers and a customer's headers."""
    _, admin_headers = await admin(client, dsn)
    item = await make_item(client, admin_headers, stock=stock)
    _, headers = await verified_customer(client, dsn)
    return item, admin_headers, headers


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_same_key_and_body_replays_the_first_response(client: AsyncTestClient[Any], services: Any) -> None:
    item, _, headers = await _setup(client, services.database_url)
    body = order_body((item["id"], 2))
    first = await client.post(ORDERS, json=body, headers=_keyed(headers, "order-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    # The same JSON with other key order and spacing is the same request.
    raw = f'{{ "lines" : [ {{"quantity": 2,  "item_id": "{item["id"]}"}} ] }}'.encode()
    again = await client.post(
        ORDERS, content=raw, headers={**_keyed(headers, "order-1"), "Content-Type": "application/json"}
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"].startswith("application/json")
    assert len((await client.get(ORDERS, headers=headers)).json()["items"]) == 1
    assert await stock_of(services.database_url, item["id"]) == [8]


async def test_same_key_with_another_body_is_422(client: AsyncTestClient[Any], services: Any) -> None:
    item, _, headers = await _setup(client, services.database_url)
    assert (
        await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "k"))
    ).status_code == 201
    response = await client.post(ORDERS, json=order_body((item["id"], 3)), headers=_keyed(headers, "k"))
    assert_problem(response, 422, "idempotency-key-reused")
    assert await stock_of(services.database_url, item["id"]) == [9]


async def test_keys_are_per_user(client: AsyncTestClient[Any], services: Any) -> None:
    item, _, alice = await _setup(client, services.database_url)
    _, bob = await verified_customer(client, services.database_url)
    body = order_body((item["id"], 1))
    first = await client.post(ORDERS, json=body, headers=_keyed(alice, "shared-key"))
    second = await client.post(ORDERS, json=body, headers=_keyed(bob, "shared-key"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["user_id"] != second.json()["user_id"]
    assert await stock_of(services.database_url, item["id"]) == [8]


async def test_domain_outcomes_are_stored_and_replayed(client: AsyncTestClient[Any], services: Any) -> None:
    item, admin_headers, headers = await _setup(client, services.database_url, stock=1)
    short = await client.post(ORDERS, json=order_body((item["id"], 5)), headers=_keyed(headers, "short"))
    assert_problem(short, 409, "out-of-stock")
    await client.patch(f"{ITEMS}/{item['id']}", json={"stock": 100}, headers=admin_headers)
    replay = await client.post(ORDERS, json=order_body((item["id"], 5)), headers=_keyed(headers, "short"))
    assert (replay.status_code, replay.content) == (409, short.content)
    assert replay.headers["content-type"].startswith("application/problem+json")
    assert replay.headers["idempotent-replayed"] == "true"

    unknown = await client.post(ORDERS, json=order_body((MISSING, 1)), headers=_keyed(headers, "unknown"))
    assert_problem(unknown, 422, "validation-error")
    replay = await client.post(ORDERS, json=order_body((MISSING, 1)), headers=_keyed(headers, "unknown"))
    assert (replay.status_code, replay.content, replay.headers["idempotent-replayed"]) == (422, unknown.content, "true")
    assert await stock_of(services.database_url, item["id"]) == [100]


async def test_schema_failures_and_server_errors_are_not_stored(
    client: AsyncTestClient[Any], services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    item, _, headers = await _setup(client, services.database_url)
    invalid = await client.post(ORDERS, json={"lines": []}, headers=_keyed(headers, "k1"))
    assert_problem(invalid, 422, "validation-error")
    assert (
        await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "k1"))
    ).status_code == 201

    async def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(service, "place_order_in", broken)
        failed = await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "k2"))
    assert_problem(failed, 500, "internal-error")
    retried = await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "k2"))
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await stock_of(services.database_url, item["id"]) == [8]


async def test_malformed_key_is_422(client: AsyncTestClient[Any], services: Any) -> None:
    _, headers = await verified_customer(client, services.database_url)
    body = order_body((MISSING, 1))
    for key in ("", " ", "has space", "x" * 256, "tab\tkey", "caf\u00e9"):
        response = await client.post(ORDERS, json=body, headers={**headers, "Idempotency-Key": key.encode()})
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["field"] == "Idempotency-Key", key
    # 255 visible ASCII characters is a key: the request runs (and its 422 is about the item).
    response = await client.post(ORDERS, json=body, headers=_keyed(headers, "~" + "k" * 253 + "!"))
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "lines[0].item_id"


async def test_keys_live_for_the_documented_ttl(client: AsyncTestClient[Any], services: Any) -> None:
    item, _, headers = await _setup(client, services.database_url)
    await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "ttl"))
    rows = await sql(services.database_url, "SELECT expires_at - created_at AS ttl FROM idempotency_keys")
    assert [row["ttl"].total_seconds() for row in rows] == [idempotency.TTL_HOURS * 3600]


async def test_expired_keys_are_reusable_and_purged(
    client: AsyncTestClient[Any], services: Any, settings: Settings
) -> None:
    item, _, headers = await _setup(client, services.database_url)
    assert (
        await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "old"))
    ).status_code == 201
    assert (
        await client.post(ORDERS, json=order_body((item["id"], 1)), headers=_keyed(headers, "live"))
    ).status_code == 201
    await sql(
        services.database_url, "UPDATE idempotency_keys SET expires_at = now() - interval '1 s' WHERE key = 'old'"
    )
    # Past its 24 h, a key starts afresh even before the purge ran: a new body is a new order.
    fresh = await client.post(ORDERS, json=order_body((item["id"], 2)), headers=_keyed(headers, "old"))
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers
    await sql(
        services.database_url, "UPDATE idempotency_keys SET expires_at = now() - interval '1 s' WHERE key = 'old'"
    )
    db = await Database(settings).open()
    try:
        assert await idempotency.purge_expired(db) == 1
        assert await idempotency.purge_expired(db) == 0
    finally:
        await db.close()
    rows = await sql(services.database_url, "SELECT key FROM idempotency_keys")
    assert [row["key"] for row in rows] == ["live"]


async def test_same_key_while_running_is_409(live_client: httpx.AsyncClient, services: Any) -> None:
    item, _, headers = await _setup(live_client, services.database_url)
    body = order_body((item["id"], 1))
    blocker = await asyncpg.connect(services.database_url)
    try:
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute("SELECT 1 FROM items WHERE id = $1 FOR UPDATE", item["id"])
        first = asyncio.create_task(live_client.post(ORDERS, json=body, headers=_keyed(headers, "slow")))
        for _ in range(200):  # until the first request waits for the item's row lock
            await blocker.execute("SELECT pg_stat_clear_snapshot()")  # a fresh view inside the transaction
            waiting = await blocker.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%unnest%'"
            )
            if waiting:
                break
            await asyncio.sleep(0.01)
        assert waiting == 1
        running = await live_client.post(ORDERS, json=body, headers=_keyed(headers, "slow"))
        problem = assert_problem(running, 409, "idempotency-in-progress")
        assert running.headers["retry-after"] == "1"
        assert "errors" not in problem
        other_body = await live_client.post(ORDERS, json=order_body((item["id"], 2)), headers=_keyed(headers, "slow"))
        assert_problem(other_body, 409, "idempotency-in-progress")
        await holding.rollback()
        created = await first
    finally:
        await blocker.close()
    assert created.status_code == 201
    replay = await live_client.post(ORDERS, json=body, headers=_keyed(headers, "slow"))
    assert (replay.status_code, replay.content, replay.headers["idempotent-replayed"]) == (201, created.content, "true")


async def test_a_burst_with_one_key_places_one_order(live_client: httpx.AsyncClient, services: Any) -> None:
    item, _, headers = await _setup(live_client, services.database_url)
    body = order_body((item["id"], 1))
    responses = await asyncio.gather(
        *(live_client.post(ORDERS, json=body, headers=_keyed(headers, "burst")) for _ in range(20))
    )
    created = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    busy = [r for r in responses if r.status_code == 409]
    assert len(created) == 1
    assert len(created) + len(replayed) + len(busy) == 20
    assert all(r.content == created[0].content for r in replayed)
    assert all(r.json()["type"] == "/problems/idempotency-in-progress" for r in busy)
    assert await stock_of(services.database_url, item["id"]) == [9]
