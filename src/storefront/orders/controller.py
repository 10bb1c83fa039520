"""HTTP surface of orders: `/orders` for signed-in users, and `/stats` for admins."""

from __future__ import annotations

from typing import Annotated, cast
from uuid import UUID

from litestar import Controller, Response
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from storefront.accounts.guards import ADMIN, AUTHENTICATED, SECURITY, CallerRequest, email_verified
from storefront.orders import idempotency, service
from storefront.orders.idempotency import Answer
from storefront.orders.schemas import OrderIn, OrderOut, StatsOut
from storefront.orders.stats import cached_stats
from storefront.web.conventions import DEFAULT_PAGE_SIZE
from storefront.web.openapi import BODY, problems
from storefront.web.pagination import Cursor, PageLimit
from storefront.web.responses import Encoded
from storefront.web.routes import get, post
from storefront.web.schemas import Page
from storefront.web.state import AppStateDep, DatabaseDep

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=idempotency.HEADER,
        description="1-255 visible ASCII characters. Retrying with the same key and body replays the "
        f"first response (`Idempotent-Replayed: true`); keys are per user and kept {idempotency.TTL_HOURS} h.",
    ),
]
CREATED_HEADERS = [
    ResponseHeader(name="Location", description="URL of the new order.", documentation_only=True),
    ResponseHeader(
        name=idempotency.REPLAYED_HEADER,
        description="`true` when this is the stored response of an earlier request with the same key.",
        documentation_only=True,
    ),
]


def _from_stored(answer: Answer) -> Response[OrderOut]:
    """The response stored under an Idempotency-Key, as it was first sent (+ the replay header)."""
    stored = answer.stored
    headers = {"Location": stored.location} if stored.location else {}
    if answer.replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    response = Response(stored.body, status_code=stored.status_code, media_type=stored.media_type, headers=headers)
    return cast("Response[OrderOut]", response)


class OrdersController(Controller):
    """Place, list, read and cancel orders."""

    path = "/orders"
    tags = ["orders"]
    guards = AUTHENTICATED
    security = SECURITY

    @post(
        "/",
        status_code=201,
        guards=[email_verified],  # before the body, the Idempotency-Key and any stock
        response_headers=CREATED_HEADERS,
        responses=problems(401, 403, 409, *BODY),
    )
    async def place_order(
        self,
        request: CallerRequest,
        app_state: AppStateDep,
        data: JSONBody[OrderIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[OrderOut]:
        """Order items at the catalog's prices: every line in stock, or nothing changes (409). The
        account's email must be verified (403 `email-not-verified`)."""
        request_id: str | None = request.scope.get("request_id")  # type: ignore[assignment]
        placed = await service.place_order(
            app_state.db, app_state.valkey, request.user.id, data, idempotency_key, request_id
        )
        if isinstance(placed, OrderOut):
            return Encoded(placed, 201, {"Location": service.location(placed)})
        return _from_stored(placed)

    @get("/", responses=problems(401, 403, 422))
    async def list_orders(
        self,
        request: CallerRequest,
        db: DatabaseDep,
        limit: PageLimit = DEFAULT_PAGE_SIZE,
        cursor: Cursor = None,
        user_id: Annotated[
            UUID | None, QueryParameter(description="Admins: only this user's orders. Customers: own id only.")
        ] = None,
    ) -> Page[OrderOut]:
        """Orders with their lines, newest first: the caller's own, or everyone's for an admin."""
        return await service.list_orders(db, request.user, user_id, limit, cursor)

    @get("/{order_id:uuid}", responses=problems(401, 404))
    async def get_order(self, request: CallerRequest, db: DatabaseDep, order_id: FromPath[UUID]) -> OrderOut:
        """One order, to its owner or an admin."""
        return await service.get_order(db, request.user, order_id)

    @post("/{order_id:uuid}/cancel", status_code=200, responses=problems(401, 404, 409))
    async def cancel_order(self, request: CallerRequest, app_state: AppStateDep, order_id: FromPath[UUID]) -> OrderOut:
        """Cancel a placed order and put its stock back; a second cancel is 409."""
        return await service.cancel_order(app_state.db, app_state.valkey, request.user, order_id)


@get("/stats", tags=["stats"], guards=ADMIN, security=SECURITY, responses=problems(401, 403))
async def stats(app_state: AppStateDep) -> StatsOut:
    """Admins: counts of users, items and orders, and the revenue of placed orders (≤ 10 s stale)."""
    return await cached_stats(app_state.db, app_state.valkey)
