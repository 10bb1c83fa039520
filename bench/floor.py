"""The framework floor: the ceiling's same work, served through a minimal Litestar app.

`ceiling-same-work` → `framework-floor` → `storefront` splits the gap in two: what Litestar itself
costs (routing, its request and exception layers, handler signatures, response handling) and what
Storefront's own code costs on top. The floor runs the ceiling's handlers (`bench.ceiling.Ceiling`:
the same queries, Structs, token check, leased rate limit and access-log line) from Litestar route
handlers that take the scope and return a pre-encoded `ASGIResponse`, the cheapest idiomatic
Litestar path; the request id, the rate limit and the access line run in an outer ASGI layer, as
Storefront's do. Run by `just bench` as
`python -m granian --interface asgi --loop uvloop --no-ws bench.floor:app`, with the ceiling's
environment (`CEILING_MODE=same-work`).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any
from uuid import UUID

from litestar import Litestar, get, post
from litestar.response.base import ASGIResponse

from bench.ceiling import ITEM_PATH, UUID_TEXT, Ceiling
from bench.replies import NOT_FOUND, Reply, bearer
from storefront.accounts.tokens import verify_access_token

WORK = Ceiling()


class View:
    """The RSGI-shaped view of an ASGI scope that the ceiling's handlers read (headers on demand)."""

    __slots__ = ("client", "headers", "method", "path")

    def __init__(self, scope: dict[str, Any], headers: bool = False) -> None:
        pairs = scope["headers"] if headers else ()
        self.headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in pairs}
        host, port = scope["client"] or ("unknown", 0)
        self.client = f"{host}:{port}"
        self.method = scope["method"]
        self.path = scope["path"]


def _asgi(reply: Reply) -> ASGIResponse:
    # `headers`, not the deprecated `encoded_headers`, whose warning costs ~8 µs a request.
    return ASGIResponse(body=reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)


@get("/health")
async def health() -> ASGIResponse:
    """Liveness, for the bench's readiness wait (no same work, as in the ceiling)."""
    return ASGIResponse(body=b'{"status":"ok"}', media_type="application/json")


@get("/api/v1/items/{item_id:uuid}")
async def get_item(item_id: UUID) -> ASGIResponse:
    """The ceiling's item read."""
    return _asgi(await WORK.get_item(item_id))


@get("/api/v1/items")
async def list_items(scope: Any) -> ASGIResponse:
    """The ceiling's first page."""
    return _asgi(await WORK.list_items(scope["query_string"].decode("latin-1")))


@get("/api/v1/users/me")
async def me(scope: Any) -> ASGIResponse:
    """The ceiling's session check and caller."""
    return _asgi(await WORK.session(scope["floor.ids"], WORK.me))


@post("/api/v1/orders", status_code=201)
async def place_order(scope: Any, body: bytes) -> ASGIResponse:
    """The ceiling's order statement."""

    async def read() -> bytes:
        return body

    view = View(scope, headers=True)
    return _asgi(await WORK.session(scope["floor.ids"], lambda user: WORK.place_order(view, read, user)))


async def _open() -> None:
    await WORK.open(os.environ)


async def _close() -> None:
    await WORK.close()


litestar_app = Litestar(
    route_handlers=[health, get_item, list_items, me, place_order],
    on_startup=[_open],
    on_shutdown=[_close],
    logging_config=None,
    openapi_config=None,
    debug=False,
)


def _outer(inner: Any) -> Any:
    """The outer layer around `inner`: request id, the leased rate limit (per user when signed in),
    the access line."""

    async def outer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/health"):
            await inner(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = f"{random.getrandbits(128):032x}"
        extra = [("x-request-id", request_id)]
        token = bearer(next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None))
        ids = scope["floor.ids"] = verify_access_token(token, WORK.secret) if token else None
        host = (scope["client"] or ("unknown", 0))[0]
        await WORK.limit(f"rl:g:u:{ids[0]}" if ids else f"rl:g:ip:{host}", extra)
        encoded = [(name.encode(), value.encode()) for name, value in extra]
        reply = Reply(500, b"")

        async def send_with_context(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                reply.status = message["status"]
                message["headers"] = [*message.get("headers", ()), *encoded]
            await send(message)

        await inner(scope, receive, send_with_context)
        if ids:
            reply.user_id = str(ids[0])
        WORK.log(View(scope), reply, request_id, time.perf_counter() - started)

    return outer


async def _route(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """No framework: the lifespan, and the same four routes dispatched by hand, as raw ASGI."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await _open()
            await send({"type": "lifespan.startup.complete"})
        await _close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    path, method = scope["path"], scope["method"]
    if path == "/health":
        reply = Reply(200, b'{"status":"ok"}')
    elif method == "GET" and path.startswith(ITEM_PATH) and UUID_TEXT.fullmatch(path, len(ITEM_PATH)):
        reply = await WORK.get_item(UUID(path[len(ITEM_PATH) :]))
    elif method == "GET" and path == "/api/v1/items":
        reply = await WORK.list_items(scope["query_string"].decode("latin-1"))
    elif method == "GET" and path == "/api/v1/users/me":
        reply = await WORK.session(scope["floor.ids"], WORK.me)
    else:
        reply = NOT_FOUND
    headers = [(b"content-type", reply.media_type.encode())]
    headers += [(name.encode(), value.encode()) for name, value in reply.headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


app = _outer(litestar_app)
"""The framework floor: Litestar inside the outer layer."""
asgi_app = _outer(_route)
"""The same without Litestar: what Granian's ASGI interface itself costs over its RSGI one."""
