"""Realistic data in seconds: users, items, orders with lines — all set-based SQL (`generate_series`).

Every user has a verified email (placing an order needs one) and shares one argon2 hash, computed
once with the service's own hasher, of a password the bench knows, so any of them can log in for
real. Sessions are inserted for the signed-in scenarios and their access tokens minted with
`storefront.accounts.security.issue_access_token` and the SECRET_KEY the service gets. The data
files the wrk scripts read are written to `data_dir`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from argon2 import PasswordHasher

from storefront.accounts.security import issue_access_token
from storefront.platform.migrations import MIGRATIONS_DIR
from storefront.platform.settings import AuthSettings
from storefront.platform.sql import read_queries

USERS = 10_000
ITEMS = 1_000
ORDERS = 20_000  # the default; `popular-under-orders` asks for POPULAR_ORDERS
POPULAR_ORDERS = 300_000  # the order history at which `/items/popular` used to cost ~250 ms a fill
SESSIONS = 1_000  # signed-in users for `me`, `order-create` and `mixed`
LOGIN_USERS = 200  # users the login scenarios sign in as
PASSWORD = "bench-password-1234"  # a throwaway account on a throwaway database
STOCK = 1_000_000_000  # ample: an order takes one unit
TOKEN_TTL = 6 * 3600  # the minted tokens outlive any run
ROLLUP_MIGRATION = MIGRATIONS_DIR / "0003_item_daily_units.sql"

INSERT_USERS = """
INSERT INTO users (email, email_verified, full_name, password_hash, created_at, updated_at)
SELECT 'user' || g || '@bench.example', true, 'Bench User ' || g, $1::text, t.at, t.at
FROM generate_series(1, $2::int) AS g,
     LATERAL (SELECT now() - make_interval(mins => g)) AS t (at)
"""

INSERT_ITEMS = """
INSERT INTO items (sku, name, description, price_cents, stock, created_at, updated_at)
SELECT 'BENCH-' || lpad(g::text, 6, '0'), 'Bench item ' || g,
       repeat('A sturdy, well-made thing for everyday use. ', 1 + g % 6),
       100 + (g * 7919) % 50000, $2::bigint, t.at, t.at
FROM generate_series(1, $1::int) AS g,
     LATERAL (SELECT now() - make_interval(mins => g)) AS t (at)
"""

# Random owners, 10 % cancelled, spread over the last 60 days; 1-3 lines per order on distinct items
# (a stride of 37 through the catalog), prices copied, totals summed: one statement, no UPDATE after.
# Rows go in in key order, so the primary keys grow at their right edge instead of splitting pages.
INSERT_ORDERS = """
WITH owners AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS k
    FROM users
),
catalog AS (
    SELECT id, sku, name, price_cents, row_number() OVER (ORDER BY id) - 1 AS k
    FROM items
),
o AS MATERIALIZED (
    SELECT gen_random_uuid() AS id, floor(random() * (SELECT count(*) FROM owners))::int AS owner,
           CASE WHEN random() < 0.1 THEN 'cancelled' ELSE 'placed' END AS status,
           now() - random() * interval '60 days' AS at,
           1 + floor(random() * 3)::int AS lines, floor(random() * $2::int)::int AS first
    FROM generate_series(1, $1::int)
),
l AS MATERIALIZED (
    SELECT o.id AS order_id, n.n::smallint AS line_no, c.id AS item_id, c.sku, c.name,
           1 + floor(random() * 3)::int AS quantity, c.price_cents
    FROM o
    CROSS JOIN LATERAL generate_series(1, o.lines) AS n (n)
    JOIN catalog AS c ON c.k = (o.first + n.n * 37) % $2::int
),
placed AS (
    INSERT INTO orders (id, user_id, status, total_cents, created_at, updated_at)
    SELECT o.id, w.id, o.status, t.total, o.at, o.at
    FROM o
    JOIN owners AS w ON w.k = o.owner
    JOIN (SELECT order_id, sum(quantity * price_cents) AS total FROM l GROUP BY order_id) AS t
      ON t.order_id = o.id
    ORDER BY o.id
)
INSERT INTO order_lines (order_id, line_no, item_id, sku, name, quantity, unit_price_cents)
SELECT order_id, line_no, item_id, sku, name, quantity, price_cents
FROM l
ORDER BY order_id, line_no
"""

# As pg_restore does: the order tables' plain indexes and foreign keys are dropped before the bulk
# insert and made again after it (a sorted build and one join each, instead of work on every row).
# Their definitions are read from the catalog, so the migrations stay the one place that states them.
DEFERRED = """
SELECT pg_get_indexdef(i.indexrelid) AS make, format('DROP INDEX %s', i.indexrelid::regclass) AS drop
FROM pg_index AS i
WHERE i.indrelid IN ('orders'::regclass, 'order_lines'::regclass)
  AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
UNION ALL
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)),
       format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname)
FROM pg_constraint
WHERE contype = 'f' AND conrelid IN ('orders'::regclass, 'order_lines'::regclass)
"""

INSERT_SESSIONS = """
INSERT INTO sessions (user_id)
SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT $1
RETURNING id, user_id
"""

# cache-coherence's writer: an admin of its own, with one session (never among the scenarios' tokens).
INSERT_ADMIN = """
WITH admin AS (
    INSERT INTO users (email, email_verified, full_name, password_hash, role)
    VALUES ('admin@bench.example', true, 'Bench Admin', $1::text, 'admin')
    RETURNING id
)
INSERT INTO sessions (user_id) SELECT id FROM admin
RETURNING id, user_id
"""


class NotEmpty(RuntimeError):
    """The database already holds data; the bench never writes into someone's data."""


@dataclass(frozen=True)
class Seeded:
    """What the scenarios need: counts, and how long seeding took."""

    users: int
    items: int
    orders: int
    sessions: int
    seconds: float


def password_hash() -> str:
    """One real argon2id hash of PASSWORD with the service's parameters (so no rehash on login)."""
    return PasswordHasher().hash(PASSWORD)


def login_bodies(count: int = LOGIN_USERS) -> list[str]:
    """JSON login bodies for the first `count` seeded users."""
    return [json.dumps({"email": f"user{n}@bench.example", "password": PASSWORD}) for n in range(1, count + 1)]


def mint_tokens(secret_key: str, sessions: list[tuple[uuid.UUID, uuid.UUID]]) -> list[str]:
    """Access tokens for (session id, user id) pairs, signed with the service's key."""
    auth = AuthSettings(secret_key=secret_key, access_ttl_seconds=TOKEN_TTL)
    return [issue_access_token(auth, user_id, session_id) for session_id, user_id in sessions]


async def _ensure_empty(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT EXISTS (SELECT FROM users) OR EXISTS (SELECT FROM items)"):
        raise NotEmpty("the database already has users or items: give the bench an empty database")


async def _insert_orders(conn: asyncpg.Connection, orders: int) -> None:
    """`orders` orders with their lines, the order tables' indexes and foreign keys deferred."""
    deferred = await conn.fetch(DEFERRED)
    for row in deferred:
        await conn.execute(row["drop"])
    await conn.execute("SET LOCAL work_mem = '64MB'")  # the generation's sorts stay in memory
    await conn.execute(INSERT_ORDERS, orders, ITEMS)
    for row in deferred:
        await conn.execute(row["make"])
    # `/items/popular` reads the daily rollup: fill it from these orders as its migration did.
    await conn.execute(read_queries(ROLLUP_MIGRATION)["backfill_item_daily_units"])


async def _fill(dsn: str, orders: int) -> tuple[list[str], list[tuple[uuid.UUID, uuid.UUID]]]:
    """Insert everything in one transaction; return the item ids and the (session, user) pairs."""
    conn = await asyncpg.connect(dsn)
    try:
        await _ensure_empty(conn)
        await conn.execute("SELECT setseed(0.42)")
        async with conn.transaction():
            await conn.execute(INSERT_USERS, password_hash(), USERS)
            await conn.execute(INSERT_ITEMS, ITEMS, STOCK)
            await _insert_orders(conn, orders)
            sessions = [(row["id"], row["user_id"]) for row in await conn.fetch(INSERT_SESSIONS, SESSIONS)]
        await conn.execute("VACUUM (ANALYZE)")
        item_ids = [str(row[0]) for row in await conn.fetch("SELECT id FROM items ORDER BY id")]
    finally:
        await conn.close()
    return item_ids, sessions


def admin_token(dsn: str, secret_key: str) -> str:
    """An access token of a new admin (for the writes of cache-coherence)."""

    async def insert() -> tuple[uuid.UUID, uuid.UUID]:
        conn = await asyncpg.connect(dsn)
        try:
            row = await conn.fetchrow(INSERT_ADMIN, password_hash())
        finally:
            await conn.close()
        return row["id"], row["user_id"]

    return mint_tokens(secret_key, [asyncio.run(insert())])[0]


def seed(dsn: str, secret_key: str, data_dir: Path, orders: int = ORDERS) -> Seeded:
    """Fill an empty, migrated database (with `orders` orders) and write the wrk data files into
    `data_dir`."""
    started = time.perf_counter()
    item_ids, sessions = asyncio.run(_fill(dsn, orders))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "items.txt").write_text("\n".join(item_ids) + "\n")
    (data_dir / "tokens.txt").write_text("\n".join(mint_tokens(secret_key, sessions)) + "\n")
    (data_dir / "logins.txt").write_text("\n".join(login_bodies()) + "\n")
    return Seeded(USERS, len(item_ids), orders, len(sessions), time.perf_counter() - started)
