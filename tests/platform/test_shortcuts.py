"""The edge's answers from memory are Litestar's answers: same status, headers and body for a
cached item and for the caller's own account (HEAD too); anything not plain goes to the app."""

from __future__ import annotations

from typing import Any

import pytest

from storefront.web.edge import Edge
from tests.support.http import admin, verified_customer
from tests.support.readcache import instance
from tests.support.services import Services
from tests.support.shop import ITEMS, make_item

pytestmark = pytest.mark.anyio
ME = "/api/v1/users/me"
VARYING = {"x-request-id", "ratelimit"}  # per request by design


def comparable(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((name, value) for name, value in response.headers.multi_items() if name not in VARYING)
    return response.status_code, headers, response.content


def counting(edge: Edge) -> list[str]:
    """The paths that reached Litestar behind `edge`."""
    reached: list[str] = []
    app = edge.app

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            reached.append(scope["path"])
        await app(scope, receive, send)

    edge.app = counted  # type: ignore[assignment]
    return reached


async def test_a_shortcut_answers_exactly_as_litestar_does(services: Services, clean: None) -> None:
    async with instance(services) as (client, _):
        edge: Edge = client._transport.app  # type: ignore[attr-defined]
        _, headers = await admin(client, services.database_url)
        item = await make_item(client, headers, name="Kettle")
        _, customer = await verified_customer(client, services.database_url)
        reached = counting(edge)
        for url, sent in ((f"{ITEMS}/{item['id']}", {}), (ME, customer)):
            full = await client.get(url, headers=sent)  # the app answers, the cache fills
            short = await client.get(url, headers=sent)  # the edge answers from memory
            assert reached == [url]
            assert comparable(short) == comparable(full)
            head = await client.head(url, headers=sent)
            assert head.content == b""
            assert comparable(head)[1] == comparable(full)[1]
            reached.clear()
        for not_plain in ({"Origin": "https://shop.example.com"}, {"If-None-Match": '"1"'}):
            await client.get(f"{ITEMS}/{item['id']}", headers=not_plain)
        await client.get(f"{ITEMS}/{item['id']}?x=1")
        assert len(reached) == 3  # left to the app: CORS, a conditional request, a query string
