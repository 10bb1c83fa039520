"""Catalog lists: keyset pages, search, the in-stock filter; ETag rules (the popular list: test_popular.py)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from storefront.catalog.etags import if_match_versions, not_modified
from storefront.catalog.queries import CatalogQueries
from tests.support.http import assert_problem
from tests.support.shop import ITEMS, make_item

pytestmark = pytest.mark.anyio


async def _all_pages(
    client: AsyncTestClient[Any], params: dict[str, Any], cursor: str | None = None
) -> list[list[dict[str, Any]]]:
    pages = []
    while True:
        response = await client.get(ITEMS, params={**params, "cursor": cursor} if cursor else params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_keyset_pages_are_newest_first_and_stable_under_inserts(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    created = [await make_item(client, admin_headers, name=f"Item {n}") for n in range(25)]
    first = (await client.get(ITEMS, params={"limit": 10})).json()
    assert [i["id"] for i in first["items"]] == [i["id"] for i in reversed(created)][:10]
    await make_item(client, admin_headers, name="Newer")  # must not shift the following pages
    rest = await _all_pages(client, {"limit": 10}, first["next_cursor"])
    assert [len(page) for page in rest] == [10, 5]
    seen = [i["id"] for i in first["items"]] + [i["id"] for page in rest for i in page]
    assert seen == [i["id"] for i in reversed(created)]
    default = (await client.get(ITEMS)).json()
    assert len(default["items"]) == 20
    assert default["next_cursor"] is not None


async def test_search_is_a_case_insensitive_literal_substring(
    client: AsyncTestClient[Any], admin_headers: dict[str, str]
) -> None:
    names = ["Blue Mug", "blue plate", "Red mug", "100% cotton", "snake_case", "snakeXcase"]
    for name in names:
        await make_item(client, admin_headers, name=name)

    async def found(q: str) -> list[str]:
        response = await client.get(ITEMS, params={"q": q})
        assert response.status_code == 200
        return sorted(i["name"] for i in response.json()["items"])

    assert await found("MUG") == ["Blue Mug", "Red mug"]
    assert await found("blue") == ["Blue Mug", "blue plate"]
    assert await found("0%") == ["100% cotton"]
    assert await found("%") == ["100% cotton"]
    assert await found("e_c") == ["snake_case"]
    assert await found("\\") == []
    assert await found("nothing like it") == []
    assert len(await found("")) == len(names)


async def test_search_pages_and_in_stock_filter(client: AsyncTestClient[Any], admin_headers: dict[str, str]) -> None:
    for n in range(5):
        await make_item(client, admin_headers, name=f"Lamp {n}", stock=n % 2)
    await make_item(client, admin_headers, name="Chair", stock=0)
    pages = await _all_pages(client, {"q": "lamp", "limit": 2})
    assert [len(p) for p in pages] == [2, 2, 1]
    in_stock = (await client.get(ITEMS, params={"in_stock": "true"})).json()["items"]
    assert sorted(i["name"] for i in in_stock) == ["Lamp 1", "Lamp 3"]
    sold_out = (await client.get(ITEMS, params={"in_stock": "false", "q": "lamp"})).json()["items"]
    assert sorted(i["name"] for i in sold_out) == ["Lamp 0", "Lamp 2", "Lamp 4"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("in_stock=maybe", "in_stock"),
        ("q=" + "x" * 201, "q"),
    ],
)
async def test_bad_list_parameters_are_422(client: AsyncTestClient[Any], query: str, field: str) -> None:
    problem = assert_problem(await client.get(f"{ITEMS}?{query}"), 422, "validation-error")
    assert problem["errors"][0]["field"] == field


async def test_search_uses_the_trigram_index(services: Any, clean: None) -> None:
    connection = await asyncpg.connect(services.database_url)
    try:
        await connection.execute(
            "INSERT INTO items (sku, name, price_cents, stock) "
            "SELECT 'TRGM-' || n, 'item ' || md5(n::text), 100, 1 FROM generate_series(1, 20000) AS n"
        )
        await connection.execute("VACUUM ANALYZE items")
        rare = await connection.fetch(f"EXPLAIN {CatalogQueries.search_items.sql}", None, None, None, 21, "needle")
        first_page = await connection.fetch(f"EXPLAIN {CatalogQueries.list_items.sql}", None, None, None, 21)
        await connection.execute("TRUNCATE items CASCADE")
    finally:
        await connection.close()
    assert "Bitmap Index Scan on items_name_trgm_idx" in "\n".join(row[0] for row in rare)
    # With no search and no cursor the page is an index walk bounded by the row comparison.
    walk = "\n".join(row[0] for row in first_page)
    assert "Index Scan using items_created_at_id_idx" in walk
    assert "Index Cond: (ROW(created_at, id) <" in walk


def test_if_match_uses_strong_comparison() -> None:
    assert if_match_versions(None) is None
    assert if_match_versions(" * ") is None
    assert if_match_versions('"3"') == [3]
    assert if_match_versions('"3", W/"4", "x", "5"') == [3, 5]
    assert if_match_versions("3") == []
    assert if_match_versions('"99999999999999999999"') == []
    assert if_match_versions('"\u00b2"') == []


def test_if_none_match_uses_weak_comparison() -> None:
    assert not not_modified(None, 1)
    assert not_modified("*", 1)
    assert not_modified('W/"1"', 1)
    assert not_modified('"2", "1"', 1)
    assert not not_modified('"2"', 1)
    assert not not_modified("1", 1)
