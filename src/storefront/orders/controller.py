"""HTTP surface of orders: `/orders` for signed-in users."""

from __future__ import annotations

from typing import Annotated, Any, cast
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ResponseHeader, State
from litestar.di import Provide
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from storefront.accounts.guards import AUTHENTICATED, SECURITY, Current, current_user
from storefront.catalog.views import shop_changed
from storefront.errors import DomainError, problem_response
from storefront.openapi import BODY, problems
from storefront.orders import idempotency, service
from storefront.orders.idempotency import Stored
from storefront.orders.schemas import OrderIn, OrderOut
from storefront.pagination import Cursor, PageLimit
from storefront.schemas import Page

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=idempotency.HEADER,
        description="1-255 visible ASCII characters. Retrying with the same key and body replays the "
        "first response (`Idempotent-Replayed: true`); keys are per user and kept 24 h.",
    ),
]
JSON = "application/json"
CREATED_HEADERS = [
    ResponseHeader(name="Location", description="URL of the new order.", documentation_only=True),
    ResponseHeader(
        name=idempotency.REPLAYED_HEADER,
        description="`true` when this is the stored response of an earlier request with the same key.",
        documentation_only=True,
    ),
]


def _location(order: OrderOut) -> str:
    return f"/api/v1/orders/{order.id}"


def _stored_problem(request: Request[Any, Any, Any]) -> idempotency.RenderError:
    """Renders a domain error exactly as the error mapper would, for storing under the key."""

    def render(exc: DomainError) -> Stored:
        response = problem_response(request, exc)
        return Stored(exc.status, str(response.media_type), msgspec.json.encode(response.content))

    return render


def _from_stored(stored: Stored, replayed: bool) -> Response[OrderOut]:
    headers = {"Location": stored.location} if stored.location else {}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    response = Response(stored.body, status_code=stored.status_code, media_type=stored.media_type, headers=headers)
    return cast("Response[OrderOut]", response)


class OrdersController(Controller):
    """Place, list, read and cancel orders."""

    path = "/orders"
    tags = ["orders"]
    guards = AUTHENTICATED
    security = SECURITY
    dependencies = {"current": Provide(current_user, sync_to_thread=False)}

    @post("/", status_code=201, response_headers=CREATED_HEADERS, responses=problems(401, 409, *BODY))
    async def place_order(
        self,
        request: Request[Any, Any, Any],
        state: State,
        current: Current,
        data: JSONBody[OrderIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[OrderOut]:
        """Order items at the catalog's prices: every line in stock, or nothing changes (409)."""
        if idempotency_key is None:
            order = await service.create_order(state.db, current.id, data)
            await shop_changed(state.cache)
            return Response(order, status_code=201, headers={"Location": _location(order)})
        key = idempotency.parse_key(idempotency_key)

        async def work(conn: asyncpg.Connection) -> Stored:
            order = await service.place_order(conn, current.id, data)
            return Stored(201, JSON, msgspec.json.encode(order), _location(order))

        fingerprint = idempotency.request_hash("place_order", data)
        stored, replayed = await idempotency.respond_once(
            state.db, current.id, key, fingerprint, work, _stored_problem(request)
        )
        if stored.status_code == 201 and not replayed:
            await shop_changed(state.cache)
        return _from_stored(stored, replayed)

    @get("/", responses=problems(401, 403, 422))
    async def list_orders(
        self,
        state: State,
        current: Current,
        limit: PageLimit = 20,
        cursor: Cursor = None,
        user_id: Annotated[
            UUID | None, QueryParameter(description="Admins: only this user's orders. Customers: own id only.")
        ] = None,
    ) -> Page[OrderOut]:
        """Orders with their lines, newest first: the caller's own, or everyone's for an admin."""
        return await service.list_orders(state.db, current, user_id, limit, cursor)

    @get("/{order_id:uuid}", responses=problems(401, 404))
    async def get_order(self, state: State, current: Current, order_id: FromPath[UUID]) -> OrderOut:
        """One order, to its owner or an admin."""
        return await service.get_order(state.db, current, order_id)

    @post("/{order_id:uuid}/cancel", status_code=200, responses=problems(401, 404, 409))
    async def cancel_order(self, state: State, current: Current, order_id: FromPath[UUID]) -> OrderOut:
        """Cancel a placed order and put its stock back; a second cancel is 409."""
        order = await service.cancel_order(state.db, current, order_id)
        await shop_changed(state.cache)
        return order
