"""Orders: placing (all or nothing), validation, listing with lines, ownership, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.http import assert_problem, customer, mark_verified, verified_customer
from tests.support.shop import ITEMS, ORDERS, make_item, order, order_body, sql, stock_of

pytestmark = pytest.mark.anyio
MISSING = "00000000-0000-4000-8000-000000000000"


async def test_place_order_copies_prices_and_takes_stock(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    mug = await make_item(client, admin_headers, name="Mug", price_cents=1250, stock=5)
    tea = await make_item(client, admin_headers, name="Tea", price_cents=399, stock=100)
    user, headers = await verified_customer(client, services.database_url)
    response = await order(client, headers, (tea["id"], 10), (mug["id"], 2))
    assert response.status_code == 201, response.text
    placed = response.json()
    assert response.headers["location"] == f"{ORDERS}/{placed['id']}"
    assert set(placed) == {"id", "user_id", "status", "lines", "total_cents", "created_at", "updated_at"}
    assert (placed["user_id"], placed["status"], placed["total_cents"]) == (user["id"], "placed", 6490)
    assert placed["lines"] == [
        {
            "item_id": tea["id"],
            "sku": tea["sku"],
            "name": "Tea",
            "quantity": 10,
            "unit_price_cents": 399,
            "line_total_cents": 3990,
        },
        {
            "item_id": mug["id"],
            "sku": mug["sku"],
            "name": "Mug",
            "quantity": 2,
            "unit_price_cents": 1250,
            "line_total_cents": 2500,
        },
    ]
    assert await stock_of(services.database_url, mug["id"], tea["id"]) == [3, 90]
    # Later catalog changes do not rewrite history.
    await client.patch(f"{ITEMS}/{mug['id']}", json={"price_cents": 1, "name": "Cup"}, headers=admin_headers)
    assert (await client.get(response.headers["location"], headers=headers)).json() == placed


async def test_an_unverified_account_cannot_order_and_touches_nothing(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    """OWASP API6:2023: throwaway accounts cannot hold stock. The 403 comes before the body, the
    Idempotency-Key and the stock, so the same key works once the email is verified."""
    item = await make_item(client, admin_headers, stock=5)
    user, headers = await customer(client)
    keyed = {**headers, "Idempotency-Key": "first-try"}
    body = order_body((item["id"], 2))
    for attempt in (headers, keyed):
        response = await client.post(ORDERS, json=body, headers=attempt)
        assert_problem(response, 403, "email-not-verified")
    assert_problem(await client.post(ORDERS, json={"lines": "nonsense"}, headers=keyed), 403, "email-not-verified")
    assert await stock_of(services.database_url, item["id"]) == [5]
    assert await sql(services.database_url, "SELECT 1 FROM idempotency_keys") == []
    assert await sql(services.database_url, "SELECT 1 FROM orders") == []

    await mark_verified(services.database_url, user["email"])
    placed = await client.post(ORDERS, json=body, headers=keyed)
    assert placed.status_code == 201, placed.text
    assert "idempotent-replayed" not in placed.headers
    assert await stock_of(services.database_url, item["id"]) == [3]


async def test_out_of_stock_changes_nothing(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    plenty = await make_item(client, admin_headers, stock=50)
    few = await make_item(client, admin_headers, stock=2)
    none = await make_item(client, admin_headers, stock=0)
    _, headers = await verified_customer(client, services.database_url)
    response = await order(client, headers, (plenty["id"], 5), (few["id"], 3), (none["id"], 1))
    problem = assert_problem(response, 409, "out-of-stock")
    assert problem["item_ids"] == [few["id"], none["id"]]
    assert await stock_of(services.database_url, plenty["id"], few["id"], none["id"]) == [50, 2, 0]
    assert (await client.get(ORDERS, headers=headers)).json()["items"] == []
    assert (await client.get(f"{ITEMS}/{plenty['id']}")).headers["etag"] == '"1"'
    assert (await order(client, headers, (few["id"], 2))).status_code == 201
    assert await stock_of(services.database_url, few["id"]) == [0]


async def test_unknown_or_deleted_items_are_422_on_their_line(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    live = await make_item(client, admin_headers, stock=5)
    gone = await make_item(client, admin_headers, stock=5)
    await client.delete(f"{ITEMS}/{gone['id']}", headers=admin_headers)
    _, headers = await verified_customer(client, services.database_url)
    response = await order(client, headers, (live["id"], 1), (MISSING, 1), (gone["id"], 1))
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["lines[1].item_id", "lines[2].item_id"]
    # Validation outranks stock: an unknown item is 422 even when another line is short.
    problem = assert_problem(await order(client, headers, (live["id"], 99), (gone["id"], 1)), 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["lines[1].item_id"]
    assert await stock_of(services.database_url, live["id"], gone["id"]) == [5, 5]


BAD_BODIES = [
    ({"lines": []}, "lines"),
    ({"lines": [{"item_id": MISSING, "quantity": 1}] * 51}, "lines"),
    ({"lines": [{"item_id": MISSING, "quantity": 0}]}, "lines[0].quantity"),
    ({"lines": [{"item_id": MISSING, "quantity": 1001}]}, "lines[0].quantity"),
    ({"lines": [{"item_id": MISSING, "quantity": "5"}]}, "lines[0].quantity"),
    ({"lines": [{"item_id": "nope", "quantity": 1}]}, "lines[0].item_id"),
    ({"lines": [{"quantity": 1}]}, "lines[0].item_id"),
    ({"lines": [{"item_id": MISSING, "quantity": 1, "unit_price_cents": 1}]}, "lines[0].unit_price_cents"),
    ({"lines": [{"item_id": MISSING, "quantity": 1}], "total_cents": 0}, "total_cents"),
    ({"lines": {"item_id": MISSING}}, "lines"),
    ({}, "lines"),
]


async def test_bad_order_bodies_are_422_naming_the_field(client: AsyncTestClient[Any], services: Any) -> None:
    _, headers = await verified_customer(client, services.database_url)
    for body, field in BAD_BODIES:
        problem = assert_problem(await client.post(ORDERS, json=body, headers=headers), 422, "validation-error")
        assert problem["errors"][0]["field"] == field, body


async def test_repeated_item_is_422(client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]) -> None:
    a = await make_item(client, admin_headers)
    b = await make_item(client, admin_headers)
    _, headers = await verified_customer(client, services.database_url)
    response = await order(client, headers, (a["id"], 1), (b["id"], 1), (a["id"], 2))
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "lines[2].item_id"


async def test_orders_need_a_signed_in_user(client: AsyncTestClient[Any]) -> None:
    assert_problem(await client.post(ORDERS, json=order_body((MISSING, 1))), 401, "unauthenticated")
    response = await client.post(ORDERS, content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(response, 401, "unauthenticated")
    assert_problem(await client.get(ORDERS), 401, "unauthenticated")
    assert_problem(await client.post(f"{ORDERS}/{MISSING}/cancel"), 401, "unauthenticated")


async def test_listing_is_own_orders_for_customers_and_any_for_admins(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    item = await make_item(client, admin_headers, stock=100)
    alice, alice_headers = await verified_customer(client, services.database_url)
    bob, bob_headers = await verified_customer(client, services.database_url)
    alice_orders = [(await order(client, alice_headers, (item["id"], n))).json()["id"] for n in (1, 2, 3)]
    bob_order = (await order(client, bob_headers, (item["id"], 4))).json()["id"]

    own = (await client.get(ORDERS, headers=alice_headers)).json()
    assert [o["id"] for o in own["items"]] == alice_orders[::-1]
    assert own["items"][0]["lines"][0]["quantity"] == 3
    assert own["next_cursor"] is None
    mine = await client.get(ORDERS, params={"user_id": alice["id"]}, headers=alice_headers)
    assert mine.json() == own
    assert_problem(await client.get(ORDERS, params={"user_id": bob["id"]}, headers=alice_headers), 403, "forbidden")

    everyone = (await client.get(ORDERS, headers=admin_headers)).json()["items"]
    assert [o["id"] for o in everyone] == [bob_order, *alice_orders[::-1]]
    bobs = (await client.get(ORDERS, params={"user_id": bob["id"]}, headers=admin_headers)).json()["items"]
    assert [o["id"] for o in bobs] == [bob_order]

    page = (await client.get(ORDERS, params={"limit": 2}, headers=admin_headers)).json()
    rest = await client.get(ORDERS, params={"limit": 2, "cursor": page["next_cursor"]}, headers=admin_headers)
    assert [o["id"] for o in page["items"] + rest.json()["items"]] == [o["id"] for o in everyone]
    assert rest.json()["next_cursor"] is None
    for query in ("limit=0", "limit=101", "cursor=x", "user_id=nope"):
        assert_problem(await client.get(f"{ORDERS}?{query}", headers=admin_headers), 422, "validation-error")


async def test_other_users_orders_are_404_and_untouched(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    item = await make_item(client, admin_headers, stock=10)
    _, alice = await verified_customer(client, services.database_url)
    _, bob = await verified_customer(client, services.database_url)
    bobs = (await order(client, bob, (item["id"], 4))).json()
    url = f"{ORDERS}/{bobs['id']}"
    assert_problem(await client.get(url, headers=alice), 404, "not-found")
    assert_problem(await client.post(f"{url}/cancel", headers=alice), 404, "not-found")
    assert (await client.get(url, headers=bob)).json() == bobs
    assert await stock_of(services.database_url, item["id"]) == [6]
    assert_problem(await client.get(f"{ORDERS}/{MISSING}", headers=alice), 404, "not-found")
    assert_problem(await client.post(f"{ORDERS}/{MISSING}/cancel", headers=alice), 404, "not-found")
    assert (await client.get(url, headers=admin_headers)).json() == bobs


async def test_cancel_restocks_exactly_once(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    a = await make_item(client, admin_headers, stock=10)
    b = await make_item(client, admin_headers, stock=3)
    _, headers = await verified_customer(client, services.database_url)
    placed = (await order(client, headers, (a["id"], 4), (b["id"], 3))).json()
    other = (await order(client, headers, (a["id"], 1))).json()
    assert await stock_of(services.database_url, a["id"], b["id"]) == [5, 0]

    response = await client.post(f"{ORDERS}/{placed['id']}/cancel", headers=headers)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["lines"] == placed["lines"]
    assert cancelled["total_cents"] == placed["total_cents"]
    assert cancelled["updated_at"] > placed["updated_at"]
    assert await stock_of(services.database_url, a["id"], b["id"]) == [9, 3]

    again = await client.post(f"{ORDERS}/{placed['id']}/cancel", headers=headers)
    assert_problem(again, 409, "conflict")
    assert await stock_of(services.database_url, a["id"], b["id"]) == [9, 3]
    assert (await client.get(f"{ORDERS}/{placed['id']}", headers=headers)).json() == cancelled
    # Admins may cancel anyone's order.
    assert (await client.post(f"{ORDERS}/{other['id']}/cancel", headers=admin_headers)).status_code == 200
    assert await stock_of(services.database_url, a["id"]) == [10]


async def test_cancel_restocks_a_deleted_item(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    item = await make_item(client, admin_headers, stock=2)
    _, headers = await verified_customer(client, services.database_url)
    placed = (await order(client, headers, (item["id"], 2))).json()
    await client.delete(f"{ITEMS}/{item['id']}", headers=admin_headers)
    assert (await client.post(f"{ORDERS}/{placed['id']}/cancel", headers=headers)).status_code == 200
    assert await stock_of(services.database_url, item["id"]) == [2]
    assert (await client.get(f"{ORDERS}/{placed['id']}", headers=headers)).json()["lines"] == placed["lines"]


async def _queries_for(
    client: AsyncTestClient[Any], url: str, headers: dict[str, str], seen: list[str]
) -> tuple[int, Any]:
    seen.clear()
    response = await client.get(url, headers=headers)
    await asyncio.sleep(0)  # asyncpg reports queries through call_soon
    assert response.status_code == 200
    return len(seen), response.json()


async def test_order_list_query_count_does_not_grow_with_the_page(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str], executed_queries: list[str]
) -> None:
    a = await make_item(client, admin_headers, stock=1000)
    b = await make_item(client, admin_headers, stock=1000)
    _, one = await verified_customer(client, services.database_url)
    _, many = await verified_customer(client, services.database_url)
    await order(client, one, (a["id"], 1))
    results = await asyncio.gather(*(order(client, many, (a["id"], 1), (b["id"], 2)) for _ in range(50)))
    assert {r.status_code for r in results} == {201}

    few_queries, few = await _queries_for(client, f"{ORDERS}?limit=100", one, executed_queries)
    many_queries, lots = await _queries_for(client, f"{ORDERS}?limit=100", many, executed_queries)
    assert (len(few["items"]), len(lots["items"])) == (1, 50)
    assert all(len(o["lines"]) == 2 for o in lots["items"])
    assert few_queries == many_queries
    assert 1 <= many_queries <= 2  # the token check and the page
