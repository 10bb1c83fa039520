"""Cached read models on a real Valkey: a write that lands during a slow fill costs its readers no wait."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from storefront.platform.cached import CachedView, Generation
from storefront.platform.valkey import ValkeyClient
from tests.support.services import Services

pytestmark = pytest.mark.anyio


@pytest.fixture
async def valkey(services: Services) -> AsyncIterator[ValkeyClient]:
    client = ValkeyClient(services.valkey_url)
    try:
        yield client
    finally:
        await client.close()


async def test_a_reader_after_a_write_does_not_wait_for_an_older_fill(valkey: ValkeyClient) -> None:
    name = f"test-{uuid.uuid4().hex}"
    generation = Generation(name)
    view = CachedView[int](name, ttl=60, value_type=int, generation=generation)
    release = asyncio.Event()

    async def slow_old_value() -> int:
        await release.wait()
        return 1

    async def new_value() -> int:
        return 2

    old_fill = asyncio.ensure_future(view.get(valkey, slow_old_value))
    await asyncio.sleep(0.05)  # the old fill holds its lock now
    await generation.bump(valkey)  # a write commits while it runs
    started = time.monotonic()
    assert await view.get(valkey, new_value) == 2
    waited = time.monotonic() - started
    release.set()
    assert await old_fill == 1
    # Before: the reader polled for a value of its generation under the old fill's lock, 1 s in all.
    assert waited < 0.5
    assert await view.get(valkey, new_value) == 2  # and the old fill's value is never served
