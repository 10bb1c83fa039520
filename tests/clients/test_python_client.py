"""The generated Python client (clients/python, openapi-python-client) against a live server: the
path a shopper takes, and an error that comes back as a typed `Problem`."""

from __future__ import annotations

import uuid

from storefront_client import AuthenticatedClient, Client
from storefront_client.api.auth import login, register, verify_email
from storefront_client.api.catalog import list_items
from storefront_client.api.orders import get_order, place_order
from storefront_client.models import (
    Accepted,
    EmailTokenIn,
    ItemOutPage,
    LoginIn,
    OrderIn,
    OrderLineIn,
    OrderOut,
    OrderStatus,
    Problem,
    RegisterIn,
    TokenPair,
)

from tests.clients.conftest import STOCK, Shop
from tests.support.http import PASSWORD, unique_email


def _signed_in(shop: Shop) -> TokenPair:
    """Register, verify the address with the mailed token, log in."""
    email = unique_email("python-client")
    with Client(base_url=shop.base) as anonymous:
        body = RegisterIn(email=email, password=PASSWORD, full_name="Python Client")
        assert isinstance(register.sync(client=anonymous, body=body), Accepted)
        verified = verify_email.sync_detailed(client=anonymous, body=EmailTokenIn(token=shop.token_for(email)))
        assert verified.status_code == 204, verified.content
        tokens = login.sync(client=anonymous, body=LoginIn(email=email, password=PASSWORD))
    assert isinstance(tokens, TokenPair), tokens
    return tokens


def test_a_shopper_orders_through_the_python_client(shop: Shop) -> None:
    tokens = _signed_in(shop)
    with AuthenticatedClient(base_url=shop.base, token=tokens.access_token) as client:
        page = list_items.sync(client=client)
        assert isinstance(page, ItemOutPage)
        item = next(item for item in page.items if str(item.id) == shop.item_id)
        order = OrderIn(lines=[OrderLineIn(item_id=item.id, quantity=2)])
        key = str(uuid.uuid4())
        placed = place_order.sync_detailed(client=client, body=order, idempotency_key=key)
        assert placed.status_code == 201, placed.content
        assert isinstance(placed.parsed, OrderOut)
        again = place_order.sync_detailed(client=client, body=order, idempotency_key=key)
        assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
        assert isinstance(again.parsed, OrderOut)
        assert again.parsed.id == placed.parsed.id

        read = get_order.sync(client=client, order_id=placed.parsed.id)
        assert isinstance(read, OrderOut)
        assert (read.status, read.total_cents) == (OrderStatus.PLACED, 2 * item.price_cents)
        assert [(line.item_id, line.quantity) for line in read.lines] == [(item.id, 2)]

        too_many = OrderIn(lines=[OrderLineIn(item_id=item.id, quantity=STOCK)])
        refused = place_order.sync_detailed(client=client, body=too_many, idempotency_key=str(uuid.uuid4()))
        assert refused.status_code == 409
        problem = refused.parsed
        assert isinstance(problem, Problem), refused.content
        assert (problem.type_, problem.status, problem.item_ids) == ("/problems/out-of-stock", 409, [shop.item_id])
        assert problem.request_id == refused.headers["X-Request-ID"]
