"""Realistic data in seconds: users, items, orders with lines — all set-based SQL (`generate_series`).

Every user shares one argon2 hash, computed once with the service's own hasher, of a password the
bench knows, so any of them can log in for real. Sessions are inserted for the signed-in scenarios
and their access tokens minted with `storefront.accounts.security.issue_access_token` and the
SECRET_KEY the service gets. The data files the wrk scripts read are written to `data_dir`.
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
from storefront.platform.settings import AuthSettings

USERS = 10_000
ITEMS = 1_000
ORDERS = 20_000
SESSIONS = 1_000  # signed-in users for `me`, `order-create` and `mixed`
LOGIN_USERS = 200  # users the login scenarios sign in as
PASSWORD = "bench-password-1234"  # a throwaway account on a throwaway database
STOCK = 1_000_000_000  # ample: an order takes one unit
TOKEN_TTL = 6 * 3600  # the minted tokens outlive any run

INSERT_USERS = """
INSERT INTO users (email, full_name, password_hash, created_at, updated_at)
SELECT 'user' || g || '@bench.example', 'Bench User ' || g, $1::text, t.at, t.at
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

# Random owners, 10 % cancelled, spread over the last 60 days.
INSERT_ORDERS = """
INSERT INTO orders (user_id, status, total_cents, created_at, updated_at)
SELECT u.ids[1 + floor(random() * cardinality(u.ids))::int],
       CASE WHEN random() < 0.1 THEN 'cancelled' ELSE 'placed' END, 0, o.at, o.at
FROM (SELECT array_agg(id) AS ids FROM users) AS u,
     (SELECT now() - random() * interval '60 days' AS at FROM generate_series(1, $1::int)) AS o
"""

# 1-3 lines per order on distinct items (a stride of 37 through the catalog), prices copied.
INSERT_LINES = """
INSERT INTO order_lines (order_id, line_no, item_id, sku, name, quantity, unit_price_cents)
SELECT o.id, l.n, i.id, i.sku, i.name, 1 + floor(random() * 3)::int, i.price_cents
FROM (SELECT id, 1 + floor(random() * 3)::int AS lines, floor(random() * $1::int)::int AS first
      FROM orders) AS o
CROSS JOIN LATERAL generate_series(1, o.lines) AS l (n)
JOIN (SELECT id, sku, name, price_cents, row_number() OVER (ORDER BY id) - 1 AS k FROM items) AS i
  ON i.k = (o.first + l.n * 37) % $1::int
"""

SET_TOTALS = """
UPDATE orders AS o
SET total_cents = s.total
FROM (SELECT order_id, sum(quantity * unit_price_cents) AS total FROM order_lines GROUP BY order_id) AS s
WHERE s.order_id = o.id
"""

INSERT_SESSIONS = """
INSERT INTO sessions (user_id)
SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT $1
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


async def _fill(dsn: str) -> tuple[list[str], list[tuple[uuid.UUID, uuid.UUID]]]:
    """Insert everything in one transaction; return the item ids and the (session, user) pairs."""
    conn = await asyncpg.connect(dsn)
    try:
        await _ensure_empty(conn)
        await conn.execute("SELECT setseed(0.42)")
        async with conn.transaction():
            await conn.execute(INSERT_USERS, password_hash(), USERS)
            await conn.execute(INSERT_ITEMS, ITEMS, STOCK)
            await conn.execute(INSERT_ORDERS, ORDERS)
            await conn.execute(INSERT_LINES, ITEMS)
            await conn.execute(SET_TOTALS)
            sessions = [(row["id"], row["user_id"]) for row in await conn.fetch(INSERT_SESSIONS, SESSIONS)]
        await conn.execute("VACUUM (ANALYZE)")
        item_ids = [str(row[0]) for row in await conn.fetch("SELECT id FROM items ORDER BY id")]
    finally:
        await conn.close()
    return item_ids, sessions


def seed(dsn: str, secret_key: str, data_dir: Path) -> Seeded:
    """Fill an empty, migrated database and write the wrk data files into `data_dir`."""
    started = time.perf_counter()
    item_ids, sessions = asyncio.run(_fill(dsn))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "items.txt").write_text("\n".join(item_ids) + "\n")
    (data_dir / "tokens.txt").write_text("\n".join(mint_tokens(secret_key, sessions)) + "\n")
    (data_dir / "logins.txt").write_text("\n".join(login_bodies()) + "\n")
    return Seeded(USERS, len(item_ids), ORDERS, len(sessions), time.perf_counter() - started)
