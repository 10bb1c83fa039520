"""The framework-free ceiling: a Granian RSGI app (granian + asyncpg + msgspec, stdlib otherwise).

It serves Storefront's hot endpoints — `GET /api/v1/items/{id}`, `GET /api/v1/items`,
`GET /api/v1/users/me`, `POST /api/v1/orders` — with Storefront's own typed queries (the same SQL,
through the same loader), its own msgspec Structs and the same database, so `just bench` can show
Storefront as a percentage of what the bare stack can do. It imports only framework-free Storefront
modules (a test checks Litestar is never loaded). `CEILING_MODE` selects the work per request:

- `bare`: parse, query, encode. Bearer tokens are still verified (HS256, every claim checked) and
  order bodies still validated strictly, because the response depends on them.
- `same-work`: plus what Storefront adds per request outside the framework: a request id, the general
  rate limit through Storefront's own limiter (`storefront.platform.leases.LeasedLimit` over its
  Valkey client: the same leases, so the same calls per request), and one JSON access-log line per
  request on stdout, written as Storefront writes it (`storefront.platform.logging.LineWriter`: one
  write per event-loop pass).
- `bare-no-db`: `bare` without PostgreSQL on the request path (item-get and me only): every item's
  body and ETag is encoded once at startup, and `me` answers from the sessions read at startup once
  the token is verified — the floor under any in-memory read cache.

Environment: `DATABASE_URL`, `SECRET_KEY`, `CEILING_MODE` (+ `VALKEY_URL`, `RATE_LIMIT_PER_MINUTE`
for `same-work`). `just bench` runs it with Granian's RSGI interface and the launcher's flags.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sys
import time
import traceback
import uuid
from typing import Any

import asyncpg
import msgspec

from bench.replies import NOT_FOUND, UNAUTHENTICATED, Reply, bearer, encode_cursor, problem, query_limit
from storefront.accounts.queries import AccountQueries
from storefront.accounts.schemas import UserOut
from storefront.accounts.tokens import verify_access_token
from storefront.catalog.queries import CatalogQueries
from storefront.catalog.schemas import ItemOut
from storefront.orders.queries import OrderQueries
from storefront.orders.schemas import OrderIn, OrderOut
from storefront.platform.heap import freeze_startup_objects
from storefront.platform.leases import LeasedLimit
from storefront.platform.logging import LineWriter, log_timestamp
from storefront.platform.ratelimit import Policy, RateLimiter
from storefront.platform.valkey import ValkeyClient
from storefront.web.conventions import JSON, MAX_BODY_BYTES
from storefront.web.schemas import Page

ITEM_PATH = "/api/v1/items/"
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_encode = msgspec.json.Encoder().encode
_order_decoder = msgspec.json.Decoder(OrderIn, strict=True)
# bare-no-db's startup reads: every live item and every live session, once.
LIVE_ITEMS = "SELECT id FROM items WHERE deleted_at IS NULL"
LIVE_SESSIONS = "SELECT id, user_id FROM sessions WHERE revoked_at IS NULL"


class Ceiling:
    """The RSGI application: one asyncpg pool (and, for `same-work`, one Valkey client) per worker."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.valkey: ValkeyClient | None = None
        self.general: LeasedLimit | None = None
        self.same_work = False
        self.secret = b""
        self.items: dict[uuid.UUID, Reply] | None = None  # bare-no-db: every item's reply
        self.callers: dict[uuid.UUID, asyncpg.Record] | None = None  # bare-no-db: the caller by session id
        self.policy_header = ""

    # lifecycle: Granian calls these in every worker, around its event loop
    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self.open(os.environ))

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self.close())

    async def open(self, env: Any) -> None:
        """Read the configuration, load the SQL, open the pool (as Storefront's: 2-10, no reset query)."""
        mode = env.get("CEILING_MODE", "bare")
        self.same_work = mode == "same-work"
        self.secret = env["SECRET_KEY"].encode()
        self.pool = await asyncpg.create_pool(
            env["DATABASE_URL"],
            min_size=int(env.get("DB_POOL_MIN", 2)),
            max_size=int(env.get("DB_POOL_MAX", 10)),
            reset=_no_reset,
            server_settings={"application_name": "ceiling", "jit": "off"},
        )
        if self.same_work:
            self.valkey = ValkeyClient(env["VALKEY_URL"])
            policy = Policy("general", int(env["RATE_LIMIT_PER_MINUTE"]), 60)
            self.general = LeasedLimit(RateLimiter(self.valkey), policy)
            self.policy_header = policy.header
        if mode == "bare-no-db":
            await self.load_everything()
        freeze_startup_objects()  # as Storefront's workers do

    async def load_everything(self) -> None:
        """bare-no-db: every live item's reply and every live session's caller, through Storefront's
        own queries, so no request reaches PostgreSQL."""
        assert self.pool is not None
        self.items, self.callers = {}, {}
        async with self.pool.acquire() as conn:
            for (item_id,) in await conn.fetch(LIVE_ITEMS):
                row = await CatalogQueries.get_item(conn, item_id)
                self.items[item_id] = Reply(200, _encode(ItemOut.from_row(row)), [("etag", f'"{row["version"]}"')])
            for session_id, user_id in await conn.fetch(LIVE_SESSIONS):
                if (caller := await AccountQueries.authenticate_session(conn, session_id, user_id)) is not None:
                    self.callers[session_id] = caller

    async def close(self) -> None:
        """Close the pool and the Valkey client."""
        if self.valkey is not None:
            await self.valkey.close()
        if self.pool is not None:
            await self.pool.close()

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        started = time.perf_counter()
        path = scope.path
        extra: list[tuple[str, str]] = []
        request_id = ""
        try:
            if self.same_work and not path.startswith("/health"):
                request_id = f"{random.getrandbits(128):032x}"
                extra.append(("x-request-id", request_id))
            reply = await self.route(scope, protocol, path, extra)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            reply = Reply(500, problem(500, "internal-error", "Internal server error", "Unexpected error."))
        headers = [("content-type", reply.media_type), *reply.headers, *extra]
        protocol.response_bytes(reply.status, headers, reply.body)
        if request_id:
            self.log(scope, reply, request_id, time.perf_counter() - started)

    async def route(self, scope: Any, protocol: Any, path: str, extra: list[tuple[str, str]]) -> Reply:
        """Dispatch on method and path (the four hot endpoints and `/health`)."""
        method = scope.method
        if method == "GET" and path == "/health":
            return Reply(200, b'{"status":"ok"}')
        if method == "GET" and path.startswith(ITEM_PATH) and UUID_TEXT.fullmatch(path, len(ITEM_PATH)):
            await self.limit(f"rl:g:ip:{_ip(scope)}", extra)
            return await self.get_item(uuid.UUID(path[len(ITEM_PATH) :]))
        if method == "GET" and path == "/api/v1/items":
            await self.limit(f"rl:g:ip:{_ip(scope)}", extra)
            return await self.list_items(scope.query_string)
        if path == "/api/v1/users/me" and method == "GET":
            return await self.authenticated(scope, extra, self.me)
        if path == "/api/v1/orders" and method == "POST":
            return await self.authenticated(scope, extra, lambda user: self.place_order(scope, protocol, user))
        return NOT_FOUND

    async def limit(self, key: str, extra: list[tuple[str, str]]) -> None:
        """same-work: one request of the general limit, through Storefront's own leased limiter."""
        if self.general is None:
            return
        decision = await self.general.take(key)
        extra += [("ratelimit-policy", self.policy_header), ("ratelimit", decision.header(self.general.policy))]

    async def authenticated(self, scope: Any, extra: list[tuple[str, str]], handler: Any) -> Reply:
        """Verify the bearer token, rate-limit by user (else by IP), then `session`."""
        token = bearer(scope.headers.get("authorization"))
        ids = verify_access_token(token, self.secret) if token else None
        await self.limit(f"rl:g:u:{ids[0]}" if ids else f"rl:g:ip:{_ip(scope)}", extra)
        return await self.session(ids, handler)

    async def session(self, ids: tuple[uuid.UUID, uuid.UUID] | None, handler: Any) -> Reply:
        """The live session of a verified token's (user, session) ids, then `handler` with the user."""
        if ids is None:
            return UNAUTHENTICATED
        user_id, session_id = ids
        if self.callers is not None:
            row = self.callers.get(session_id)
            row = row if row is not None and row["id"] == user_id else None
        else:
            assert self.pool is not None
            async with self.pool.acquire() as conn:
                row = await AccountQueries.authenticate_session(conn, session_id, user_id)
        if row is None:
            return UNAUTHENTICATED
        reply: Reply = await handler(row)
        reply.user_id = str(user_id)
        return reply

    async def get_item(self, item_id: uuid.UUID) -> Reply:
        """`GET /items/{id}`: the item and its strong ETag, or 404."""
        if self.items is not None:
            return self.items.get(item_id, NOT_FOUND)
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await CatalogQueries.get_item(conn, item_id)
        if row is None:
            return NOT_FOUND
        return Reply(200, _encode(ItemOut.from_row(row)), [("etag", f'"{row["version"]}"')])

    async def list_items(self, query_string: str) -> Reply:
        """`GET /items`: the first keyset page, newest first, with its next cursor."""
        limit = query_limit(query_string)
        if limit is None:
            return Reply(422, problem(422, "validation-error", "Validation failed", "limit: must be 1-100"))
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            rows = await CatalogQueries.list_items(conn, None, None, None, limit + 1)
        items = [ItemOut.from_row(row) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        cursor = encode_cursor(last["created_at"], last["id"]) if last is not None else None
        return Reply(200, _encode(Page(items=items, next_cursor=cursor)))

    async def me(self, row: asyncpg.Record) -> Reply:
        """`GET /users/me`: the caller, from the session lookup."""
        return Reply(200, _encode(UserOut.from_row(row)), [("cache-control", "no-store")])

    async def place_order(self, scope: Any, protocol: Any, user: asyncpg.Record) -> Reply:
        """`POST /orders`: validate strictly, then Storefront's one-statement order transaction."""
        if scope.headers.get("content-type", "").partition(";")[0].strip() != JSON:
            return Reply(415, problem(415, "unsupported-media-type", "Unsupported media type", "Send JSON."))
        raw = await protocol()
        if len(raw) > MAX_BODY_BYTES:
            return Reply(413, problem(413, "payload-too-large", "Payload too large", "Over 1 MiB."))
        try:
            order = _order_decoder.decode(raw)
        except msgspec.DecodeError as exc:
            return Reply(422, problem(422, "validation-error", "Validation failed", str(exc)))
        item_ids = [line.item_id for line in order.lines]
        quantities = [line.quantity for line in order.lines]
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await OrderQueries.place_order(conn, user["id"], item_ids, quantities)
        if row["missing_lines"]:
            return Reply(422, problem(422, "validation-error", "Validation failed", "unknown item"))
        if row["short_item_ids"]:
            return Reply(409, problem(409, "out-of-stock", "Out of stock", "Not enough stock."))
        placed = OrderOut.from_row(row)
        return Reply(201, _encode(placed), [("location", f"/api/v1/orders/{placed.id}")])

    @staticmethod
    def log(scope: Any, reply: Reply, request_id: str, elapsed: float) -> None:
        """same-work: Storefront's access-log line (same fields), queued like Storefront's."""
        entry = {
            "ts": log_timestamp(time.time()),
            "level": "INFO",
            "logger": "ceiling.access",
            "msg": "request",
            "request_id": request_id,
            "method": scope.method,
            "path": scope.path,
            "route": scope.path,
            "status": reply.status,
            "duration_ms": round(elapsed * 1000, 3),
            "user_id": reply.user_id,
            "client": _ip(scope),
        }
        _lines.write(_encode(entry))


async def _no_reset(connection: asyncpg.Connection) -> None:
    """No per-release reset query (Storefront skips it too)."""


def _ip(scope: Any) -> str:
    return str(scope.client).rpartition(":")[0] or "unknown"


_lines = LineWriter()

app = Ceiling()
