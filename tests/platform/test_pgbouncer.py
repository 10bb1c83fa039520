"""Behind PgBouncer in transaction mode (DB_PGBOUNCER=transaction): every transaction may run on
another server connection, so no named prepared statements and no session state. PgBouncer here has
3 server connections for an app pool of 20, so consecutive statements of one client do move."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from storefront.platform.db import Database
from tests.support.http import admin, verified_customer
from tests.support.services import Services, make_settings, serving
from tests.support.shop import ITEMS, ORDERS, make_item, order, order_body, stock_of

pytestmark = pytest.mark.anyio


def _pooled(services: Services, pgbouncer: str) -> dict[str, str]:
    return {"DATABASE_URL": pgbouncer, "DB_PGBOUNCER": "transaction", "MIGRATIONS_DATABASE_URL": services.database_url}


async def test_the_shop_works_through_a_transaction_pooler(services: Services, pgbouncer: str, clean: None) -> None:
    async with serving(services, **_pooled(services, pgbouncer)) as client:
        _, admin_headers = await admin(client, services.database_url)
        item = await make_item(client, admin_headers, stock=20)
        _, headers = await verified_customer(client, services.database_url)
        orders = [order(client, headers, (item["id"], 1)) for _ in range(30)]
        reads = [client.get(f"{ITEMS}/{item['id']}") for _ in range(60)]
        lists = [client.get(ITEMS, params={"q": "thing"}) for _ in range(30)]
        responses = await asyncio.gather(*orders, *reads, *lists)
        placed = responses[:30]
        assert sorted(r.status_code for r in placed) == [201] * 20 + [409] * 10
        assert {r.status_code for r in responses[30:]} == {200}
        assert await stock_of(services.database_url, item["id"]) == [0]
        mine = await client.get(ORDERS, params={"limit": 100}, headers=headers)
        assert len(mine.json()["items"]) == 20
        other = await make_item(client, admin_headers, stock=5)
        key = headers | {"Idempotency-Key": "same-key"}
        same = await asyncio.gather(
            *(client.post(ORDERS, json=order_body((other["id"], 1)), headers=key) for _ in range(5))
        )
        assert {r.status_code for r in same} <= {201, 409}
        assert await stock_of(services.database_url, other["id"]) == [4]


async def test_the_pool_keeps_no_session_settings_the_pooler_refuses(services: Services, pgbouncer: str) -> None:
    direct = Database(make_settings(services, DATABASE_URL=pgbouncer, DB_PGBOUNCER="off"))
    with pytest.raises(asyncpg.ProtocolViolationError, match="unsupported startup parameter"):
        await direct.open()
    pooled = await Database(make_settings(services, **_pooled(services, pgbouncer))).open()
    try:
        async with pooled.acquire() as connection:
            # PgBouncer's connect_query sets what the startup parameters would have.
            assert await connection.fetchval("SELECT current_setting('statement_timeout')") == "15s"
    finally:
        await pooled.close()


async def test_named_prepared_statements_break_behind_it(pgbouncer: str) -> None:
    """Why DB_PGBOUNCER=transaction turns asyncpg's statement cache off (PgBouncer 1.18)."""
    pool = await asyncpg.create_pool(pgbouncer, min_size=10, max_size=10)
    failures: list[BaseException] = []

    async def query(n: int) -> Any:
        try:
            return await pool.fetchval("SELECT $1::int + 0", n)
        except asyncpg.PostgresError as exc:
            failures.append(exc)
            return None

    try:
        await asyncio.gather(*(query(n) for n in range(200)))
    finally:
        await pool.close()
    assert failures, "named prepared statements unexpectedly survived a transaction pooler"
    assert any("prepared statement" in str(exc) for exc in failures)


async def test_pgbouncer_checks_a_password_it_keeps_as_a_scram_secret(services: Services, pgbouncer: str) -> None:
    url = urlsplit(pgbouncer)
    at = f"@{url.hostname}:{url.port}"
    for credentials in (f"{url.username}", f"{url.username}:not-the-password"):
        with pytest.raises(asyncpg.PostgresError, match="authentication failed"):
            await asyncpg.connect(url._replace(netloc=credentials + at).geturl())
    connection = await asyncpg.connect(pgbouncer)
    assert await connection.fetchval("SELECT 1") == 1
    await connection.close()
    users = list(services.root.glob("pgbouncer*/users.txt"))
    assert users
    for path in users:
        assert path.stat().st_mode & 0o777 == 0o600
        assert "SCRAM-SHA-256$" in path.read_text()
        assert url.password not in path.read_text()
