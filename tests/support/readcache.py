"""Apps with their read cache on, as separate instances: their own pool, cache and channel."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from storefront.app import create_app
from storefront.web.state import AppState
from tests.support.services import Services, live, make_settings, running

BOUND = 0.05  # an invalidation reaches every instance within it (the measured bound of docs/limits-and-caching.md)


@contextlib.asynccontextmanager
async def instance(services: Services, **env: str) -> AsyncIterator[tuple[httpx.AsyncClient, AppState]]:
    """One app (an instance of its own: its pool, its cache, its channel) and its state, its read
    cache on whatever TEST_READ_CACHE says, once its channel is healthy."""
    app = create_app(make_settings(services, READ_CACHE="on", **env))
    state: AppState = app.app.state["storefront"]
    async with running(app), live(app) as client:
        await until(lambda: state.cache.healthy(), "the channel never became healthy")
        yield client, state


async def until(condition: Any, why: str, seconds: float = 10.0) -> None:
    """Wait until `condition()` holds; fail with `why` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, why
        await asyncio.sleep(0.01)
