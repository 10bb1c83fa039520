"""Items: admin CRUD, validation, strong ETags and preconditions, soft delete."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.http import assert_problem, customer, verified_customer
from tests.support.shop import ITEMS, make_item, new_sku, order

pytestmark = pytest.mark.anyio
FIELDS = {"id", "sku", "name", "description", "price_cents", "stock", "created_at", "updated_at"}


async def test_create_returns_201_location_etag_and_every_field(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    body = {"sku": new_sku(), "name": "  Blue mug  ", "price_cents": 1250, "stock": 3}
    response = await client.post(ITEMS, json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    item = response.json()
    assert set(item) == FIELDS
    assert (item["name"], item["description"], item["price_cents"], item["stock"]) == ("Blue mug", "", 1250, 3)
    assert response.headers["location"] == f"{ITEMS}/{item['id']}"
    assert response.headers["etag"] == '"1"'
    assert item["created_at"].endswith("Z") or item["created_at"].endswith("+00:00")

    fetched = await client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == item
    assert fetched.headers["etag"] == '"1"'


async def test_duplicate_sku_is_409(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    item = await make_item(client, admin_headers)
    response = await client.post(
        ITEMS, json={"sku": item["sku"], "name": "Other", "price_cents": 1, "stock": 1}, headers=admin_headers
    )
    assert_problem(response, 409, "conflict")


INVALID = [
    ({"price_cents": -1}, "price_cents"),
    ({"price_cents": 1_000_000_001}, "price_cents"),
    ({"stock": "5"}, "stock"),
    ({"stock": 1.5}, "stock"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"description": "x" * 5001}, "description"),
    ({"sku": "has space"}, "sku"),
    ({"sku": ""}, "sku"),
    ({"sku": "x" * 65}, "sku"),
    ({"version": 7}, "version"),
]


async def test_invalid_item_is_422_naming_the_field(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    for change, field in INVALID:
        body = {"sku": new_sku(), "name": "Thing", "price_cents": 1, "stock": 1, **change}
        response = await client.post(ITEMS, json=body, headers=admin_headers)
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["field"] == field, change
    assert (await client.get(ITEMS)).json()["items"] == []


async def test_writes_need_an_admin(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    item = await make_item(client, admin_headers)
    _, headers = await customer(client)
    body = {"sku": new_sku(), "name": "Thing", "price_cents": 1, "stock": 1}
    assert_problem(await client.post(ITEMS, json=body, headers=headers), 403, "forbidden")
    assert_problem(await client.patch(f"{ITEMS}/{item['id']}", json={"stock": 0}, headers=headers), 403, "forbidden")
    assert_problem(await client.delete(f"{ITEMS}/{item['id']}", headers=headers), 403, "forbidden")
    # Authentication comes before the body: an anonymous bad body is 401, not 400/422.
    response = await client.post(ITEMS, content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(response, 401, "unauthenticated")


async def test_if_none_match_gives_304(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    item = await make_item(client, admin_headers)
    url = f"{ITEMS}/{item['id']}"
    for header in ('"1"', 'W/"1"', '"9", "1"', "*"):
        response = await client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == '"1"'
    stale = await client.get(url, headers={"If-None-Match": '"0"'})
    assert stale.status_code == 200
    assert stale.json() == item


async def test_patch_with_if_match(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    item = await make_item(client, admin_headers, stock=5)
    url = f"{ITEMS}/{item['id']}"
    response = await client.patch(url, json={"price_cents": 999}, headers={**admin_headers, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["price_cents"] == 999
    assert response.json()["stock"] == 5
    assert response.json()["updated_at"] > item["updated_at"]

    for stale in ('"1"', 'W/"2"', "2", '"x"'):
        response = await client.patch(url, json={"stock": 0}, headers={**admin_headers, "If-Match": stale})
        assert_problem(response, 412, "precondition-failed")
    assert (await client.get(url)).json()["stock"] == 5

    response = await client.patch(url, json={"name": "Renamed"}, headers={**admin_headers, "If-Match": "*"})
    assert response.headers["etag"] == '"3"'
    response = await client.patch(url, json={"description": "Long"}, headers=admin_headers)
    assert response.headers["etag"] == '"4"'
    assert (await client.get(url)).headers["etag"] == '"4"'


async def test_patch_rejects_null_and_unknown_fields(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    item = await make_item(client, admin_headers)
    url = f"{ITEMS}/{item['id']}"
    for body, field in (({"name": None}, "name"), ({"stock": -1}, "stock"), ({"price": 5}, "price")):
        problem = assert_problem(await client.patch(url, json=body, headers=admin_headers), 422, "validation-error")
        assert problem["errors"][0]["field"] == field


async def test_patch_to_a_taken_sku_is_409(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    first = await make_item(client, admin_headers)
    second = await make_item(client, admin_headers)
    response = await client.patch(f"{ITEMS}/{second['id']}", json={"sku": first["sku"]}, headers=admin_headers)
    assert_problem(response, 409, "conflict")


async def test_unknown_item_is_404(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    url = f"{ITEMS}/00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(url), 404, "not-found")
    assert_problem(await client.patch(url, json={"stock": 1}, headers=admin_headers), 404, "not-found")
    assert_problem(
        await client.patch(url, json={"stock": 1}, headers={**admin_headers, "If-Match": '"1"'}), 404, "not-found"
    )
    assert_problem(await client.delete(url, headers=admin_headers), 404, "not-found")
    assert_problem(await client.get(f"{ITEMS}/not-a-uuid"), 404, "not-found")


async def test_soft_delete(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    item = await make_item(client, admin_headers)
    url = f"{ITEMS}/{item['id']}"
    assert_problem(await client.delete(url, headers={**admin_headers, "If-Match": '"7"'}), 412, "precondition-failed")
    response = await client.delete(url, headers={**admin_headers, "If-Match": '"1"'})
    assert response.status_code == 204
    assert_problem(await client.get(url), 404, "not-found")
    assert_problem(await client.delete(url, headers=admin_headers), 404, "not-found")
    assert_problem(await client.patch(url, json={"stock": 1}, headers=admin_headers), 404, "not-found")
    assert item["id"] not in [i["id"] for i in (await client.get(ITEMS)).json()["items"]]
    # The SKU stays reserved, like a deleted user's email.
    body = {"sku": item["sku"], "name": "Again", "price_cents": 1, "stock": 1}
    assert_problem(await client.post(ITEMS, json=body, headers=admin_headers), 409, "conflict")


async def test_orders_and_cancels_change_the_etag(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    item = await make_item(client, admin_headers, stock=5)
    url = f"{ITEMS}/{item['id']}"
    _, headers = await verified_customer(client, services.database_url)
    placed = await order(client, headers, (item["id"], 2))
    assert placed.status_code == 201
    after_order = await client.get(url, headers={"If-None-Match": '"1"'})
    assert after_order.status_code == 200
    assert after_order.headers["etag"] == '"2"'
    assert after_order.json()["stock"] == 3
    cancelled = await client.post(f"/api/v1/orders/{placed.json()['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    after_cancel = await client.get(url)
    assert (after_cancel.headers["etag"], after_cancel.json()["stock"]) == ('"3"', 5)
