"""GET /items/popular and the daily rollup it reads (`item_daily_units`): units of placed orders per
item and UTC day, kept by the order statements, filled from history by its migration."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from storefront.catalog.cached import POPULAR_MAX
from storefront.catalog.queries import CatalogQueries
from tests.support.http import assert_problem, verified_customer
from tests.support.shop import (
    ITEMS,
    ORDERS,
    ROLLUP_BACKFILL,
    backdate,
    make_item,
    order,
    rebuild_rollup,
    sql,
    units_of,
)

pytestmark = pytest.mark.anyio
POPULAR = f"{ITEMS}/popular"

# `popular_items` before the rollup: every order line of the last 30 days (a rolling 30 × 24 h).
PRE_ROLLUP_POPULAR = """
SELECT i.id, i.sku, i.name, i.description, i.price_cents, i.stock, i.created_at, i.updated_at,
       i.version, p.units_ordered
FROM (
    SELECT l.item_id, sum(l.quantity)::bigint AS units_ordered
    FROM orders AS o
    JOIN order_lines AS l ON l.order_id = o.id
    WHERE o.status = 'placed' AND o.created_at > now() - interval '30 days'
    GROUP BY l.item_id
) AS p
JOIN items AS i ON i.id = p.item_id
WHERE i.deleted_at IS NULL
ORDER BY p.units_ordered DESC, i.id
LIMIT $1
"""


async def _rollup(dsn: str, *item_ids: str) -> dict[tuple[date, str], int]:
    rows = await sql(
        dsn,
        "SELECT day, item_id::text, units FROM item_daily_units WHERE item_id = ANY($1::uuid[])",
        list(item_ids),
    )
    return {(row["day"], row["item_id"]): row["units"] for row in rows}


async def _day_of(dsn: str, order_id: str) -> date:
    rows = await sql(dsn, "SELECT (created_at AT TIME ZONE 'UTC')::date AS day FROM orders WHERE id = $1", order_id)
    return rows[0]["day"]  # type: ignore[no-any-return]


async def _popular(client: AsyncTestClient[Any], **params: Any) -> list[tuple[str, int]]:
    response = await client.get(POPULAR, params=params)
    assert response.status_code == 200, response.text
    return [(item["id"], item["units_ordered"]) for item in response.json()["items"]]


async def test_popular_counts_units_per_item_from_placed_orders_of_live_items(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    dsn = services.database_url
    hot, warm, cold, gone = [await make_item(client, admin_headers, stock=100) for _ in range(4)]
    never = await make_item(client, admin_headers)
    _, headers = await verified_customer(client, services.database_url)
    assert (await order(client, headers, (hot["id"], 5), (warm["id"], 1))).status_code == 201
    assert (await order(client, headers, (hot["id"], 2), (gone["id"], 50))).status_code == 201
    assert (await order(client, headers, (warm["id"], 3))).status_code == 201
    cancelled = await order(client, headers, (warm["id"], 20), (cold["id"], 1))
    assert (await client.post(f"{ORDERS}/{cancelled.json()['id']}/cancel", headers=headers)).status_code == 200
    old = await order(client, headers, (cold["id"], 90))
    await backdate(dsn, 31, old.json()["id"])
    await client.delete(f"{ITEMS}/{gone['id']}", headers=admin_headers)

    response = await client.get(POPULAR)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [(i["id"], i["units_ordered"]) for i in body["items"]] == [(hot["id"], 7), (warm["id"], 4)]
    assert set(body["items"][0]) == {*hot, "units_ordered"}
    assert never["id"] not in {i["id"] for i in body["items"]}
    assert await _popular(client, limit=1) == [(hot["id"], 7)]
    for bad in ("0", "51", "x"):
        assert_problem(await client.get(f"{POPULAR}?limit={bad}"), 422, "validation-error")


async def test_ties_are_ordered_by_id(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    items = [await make_item(client, admin_headers) for _ in range(3)]
    _, headers = await verified_customer(client, services.database_url)
    assert (await order(client, headers, *((item["id"], 2) for item in items))).status_code == 201
    assert await _popular(client) == sorted((item["id"], 2) for item in items)


async def test_orders_place_units_on_their_utc_day(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    dsn = services.database_url
    a, b = await make_item(client, admin_headers), await make_item(client, admin_headers)
    _, headers = await verified_customer(client, services.database_url)
    first = await order(client, headers, (a["id"], 2), (b["id"], 1))
    await order(client, headers, (b["id"], 4))
    today = await _day_of(dsn, first.json()["id"])
    assert await _rollup(dsn, a["id"], b["id"]) == {(today, a["id"]): 2, (today, b["id"]): 5}
    assert (await order(client, headers, (a["id"], 999))).status_code == 409  # out of stock: nothing counted
    assert await units_of(dsn, a["id"], b["id"]) == [2, 5]


async def test_a_cancel_takes_units_back_from_the_day_the_order_was_placed(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    dsn = services.database_url
    item = await make_item(client, admin_headers, stock=100)
    _, headers = await verified_customer(client, services.database_url)
    earlier = (await order(client, headers, (item["id"], 5))).json()["id"]
    await backdate(dsn, 3, earlier)
    later = (await order(client, headers, (item["id"], 7))).json()["id"]
    placed_day, today = await _day_of(dsn, earlier), await _day_of(dsn, later)
    assert await _rollup(dsn, item["id"]) == {(placed_day, item["id"]): 5, (today, item["id"]): 7}
    assert await _popular(client) == [(item["id"], 12)]

    assert (await client.post(f"{ORDERS}/{earlier}/cancel", headers=headers)).status_code == 200
    assert await _rollup(dsn, item["id"]) == {(placed_day, item["id"]): 0, (today, item["id"]): 7}
    await client.patch(f"{ITEMS}/{item['id']}", json={"name": "Refreshed"}, headers=admin_headers)
    assert await _popular(client) == [(item["id"], 7)]


async def test_only_the_last_30_utc_days_count(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    dsn = services.database_url
    edge, past, old = [await make_item(client, admin_headers) for _ in range(3)]
    _, headers = await verified_customer(client, services.database_url)
    aged = (await order(client, headers, (old["id"], 1))).json()["id"]
    await backdate(dsn, 31, aged)
    # Day rows straight into the rollup: 29 days ago is inside the window (today is its 30th day).
    await sql(
        dsn,
        "INSERT INTO item_daily_units (day, item_id, units) "
        "SELECT (now() AT TIME ZONE 'UTC')::date - age, item_id, units "
        "FROM unnest($1::int[], $2::uuid[], $3::bigint[]) AS r (age, item_id, units)",
        [29, 30, 30, 45],
        [edge["id"], edge["id"], past["id"], old["id"]],
        [4, 100, 1000, 1000],
    )
    assert await _popular(client) == [(edge["id"], 4)]


async def test_an_item_whose_orders_were_all_cancelled_is_left_out(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    kept, dropped = await make_item(client, admin_headers), await make_item(client, admin_headers)
    _, headers = await verified_customer(client, services.database_url)
    await order(client, headers, (kept["id"], 1))
    placed = (await order(client, headers, (dropped["id"], 3), (kept["id"], 1))).json()["id"]
    await client.post(f"{ORDERS}/{placed}/cancel", headers=headers)
    assert await _popular(client) == [(kept["id"], 1)]
    assert await units_of(services.database_url, kept["id"], dropped["id"]) == [1, 0]


async def test_units_never_go_negative(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    dsn = services.database_url
    item = await make_item(client, admin_headers)
    _, headers = await verified_customer(client, services.database_url)
    placed = (await order(client, headers, (item["id"], 2))).json()["id"]
    assert (await client.post(f"{ORDERS}/{placed}/cancel", headers=headers)).status_code == 200
    assert (await client.post(f"{ORDERS}/{placed}/cancel", headers=headers)).status_code == 409
    assert await units_of(dsn, item["id"]) == [0]
    with pytest.raises(asyncpg.CheckViolationError) as caught:
        await sql(dsn, "UPDATE item_daily_units SET units = units - 1 WHERE item_id = $1", item["id"])
    assert caught.value.constraint_name == "item_daily_units_units_check"


async def test_the_backfill_agrees_with_the_orders_and_with_the_old_aggregate(
    client: AsyncTestClient[Any], services: Any, admin_headers: dict[str, str]
) -> None:
    dsn = services.database_url
    items = [await make_item(client, admin_headers, stock=1000) for _ in range(6)]
    ids = [item["id"] for item in items]
    _, headers = await verified_customer(client, services.database_url)
    placed = []
    for n in range(24):
        lines = [(ids[(n + k * 2) % 6], 1 + (n * 7 + k) % 9) for k in range(1 + n % 3)]
        response = await order(client, headers, *lines)
        assert response.status_code == 201, response.text
        placed.append(response.json()["id"])
    for order_id in placed[::5]:
        assert (await client.post(f"{ORDERS}/{order_id}/cancel", headers=headers)).status_code == 200

    # What the order statements kept equals what the migration's backfill computes from the orders.
    kept = {key: units for key, units in (await _rollup(dsn, *ids)).items() if units}
    await rebuild_rollup(dsn)
    assert await _rollup(dsn, *ids) == kept

    # Spread the orders over 60 days (whole days back from now, so the rolling 30 × 24 h window and
    # the 30 UTC days agree), delete an item, then compare the rollup's answer with the old query's.
    for age, order_ids in zip((1, 2, 10, 29, 31, 45), (placed[k::6] for k in range(6)), strict=True):
        await sql(
            dsn,
            "UPDATE orders SET created_at = created_at - make_interval(days => $1) WHERE id = ANY($2::uuid[])",
            age,
            order_ids,
        )
    await client.delete(f"{ITEMS}/{ids[3]}", headers=admin_headers)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("TRUNCATE item_daily_units")
            await connection.execute(ROLLUP_BACKFILL)
        rollup = [dict(row) for row in await CatalogQueries.popular_items(connection, POPULAR_MAX)]
        aggregate = [dict(row) for row in await connection.fetch(PRE_ROLLUP_POPULAR, POPULAR_MAX)]
    finally:
        await connection.close()
    # ids[3] is deleted; ids[5] was only ordered more than 30 days ago or in cancelled orders.
    assert {str(row["id"]) for row in rollup} == {ids[0], ids[1], ids[2], ids[4]}
    assert rollup == aggregate
