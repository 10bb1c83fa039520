"""What a request costs the whole system, beyond the server's workers: the CPU of every PostgreSQL
process (the postmaster and all its children) and of Valkey, and PostgreSQL's transactions
(`pg_stat_database`: commits + rollbacks of the bench's database), read before and after each
measured window on a connection of the bench's own.

PostgreSQL (15 and later) publishes a backend's counts at most once a second while it works; what a
backend did in its last second is published only when it next works, or after it has been idle for
PGSTAT_IDLE_INTERVAL (10 s). Around a window whose PostgreSQL work should be ~0 (cached reads),
`quiet()` waits until that has happened, so the window is charged exactly its own transactions.
Around the others the figure is approximate: a window and its warm-up run the same load, so what is
held back at either end is alike, but up to a second of the previous target's work may land in it
(± ~10 % of a 10 s window, ± ~30 % of `--quick`'s 3 s)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import asyncpg
import psutil
import valkey

from bench.infra import tree_cpu_seconds

PGSTAT_IDLE_INTERVAL = 10.0  # PostgreSQL's pgstat.c: an idle backend publishes its counts after this
QUIET_MARGIN = 0.5
QUIET_POLL = 0.5
# Every query of the bench's connection asks its own counts to be published at once, so its own
# transactions (one per query) land between the reads that bracket them.
XACTS = """
SELECT pg_stat_force_next_flush(), xact_commit + xact_rollback
FROM pg_stat_database WHERE datname = current_database()
"""
# Seconds since the most recent end of work of any other client connection of the database (a very
# large number when there is none), and whether one is working now.
LAST_WORK = """
SELECT pg_stat_force_next_flush(),
       coalesce(extract(epoch FROM now() - max(state_change)), 1e9)::float8,
       coalesce(bool_or(state <> 'idle'), false)
FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
"""
BACKEND = "SELECT pg_stat_force_next_flush(), pg_backend_pid()"


@dataclass(frozen=True)
class Reading:
    """The counters at one instant: the server's CPU seconds, the backing services' (PostgreSQL,
    Valkey, PgBouncer), PostgreSQL's transactions so far, and how many of them were the bench's own."""

    server_cpu: float
    backing_cpu: float | None
    xacts: int | None
    own_xacts: int


def per_request(amount: float, requests: int, scale: float = 1e6, digits: int = 1) -> float | None:
    """`amount` per request, times `scale` (µs per request from seconds, by default)."""
    return round(amount / requests * scale, digits) if requests else None


def window_figures(before: Reading, after: Reading, requests: int) -> tuple[float | None, float | None]:
    """(whole-system CPU µs per request, PostgreSQL transactions per request) over a window: each
    counter's growth, the bench's own transactions taken out."""
    system = None
    if before.backing_cpu is not None and after.backing_cpu is not None:
        spent = after.server_cpu - before.server_cpu + after.backing_cpu - before.backing_cpu
        system = per_request(spent, requests)
    xacts = None
    if before.xacts is not None and after.xacts is not None:
        theirs = (after.xacts - before.xacts) - (after.own_xacts - before.own_xacts)
        xacts = per_request(max(0, theirs), requests, scale=1.0, digits=4)
    return system, xacts


class SystemMeter:
    """The bench's connection to PostgreSQL (opened on first use: PostgreSQL may be restarted after
    seeding) and the processes of PostgreSQL and Valkey, when they run on this machine."""

    def __init__(self, database_url: str, valkey_url: str) -> None:
        self.database_url, self.valkey_url = database_url, valkey_url
        self.loop = asyncio.new_event_loop()
        self.connection: asyncpg.Connection | None = None
        self.processes: list[psutil.Process] | None = None
        self.statements: dict[str, asyncpg.prepared_stmt.PreparedStatement] = {}
        self.own_xacts = 0

    def _query(self, sql: str) -> asyncpg.Record:
        """One of the bench's queries (each its own transaction, published at once), counted."""
        if self.connection is None or self.connection.is_closed():
            self.processes = None
            self.connection = self.loop.run_until_complete(asyncpg.connect(self.database_url))
            # Prepared now, ahead of any window: a prepare may cost a transaction of its own.
            for text in (XACTS, LAST_WORK, BACKEND):
                self.statements[text] = self.loop.run_until_complete(self.connection.prepare(text))
        self.own_xacts += 1
        return self.loop.run_until_complete(self.statements[sql].fetchrow())

    def _backing(self) -> list[psutil.Process]:
        """The postmaster (the parent of this connection's backend) and Valkey's server process; only
        those found on this machine under the expected name."""
        if self.processes is None:
            found = []
            backend = self._query(BACKEND)[1]
            with contextlib.suppress(psutil.Error):
                postmaster = psutil.Process(backend).parent()
                if postmaster is not None and "postgres" in postmaster.name():
                    found.append(postmaster)
            with contextlib.suppress(Exception):
                client = valkey.Valkey.from_url(self.valkey_url)
                pid = int(client.info("server")["process_id"])
                client.close()
                if "valkey" in psutil.Process(pid).name() or "redis" in psutil.Process(pid).name():
                    found.append(psutil.Process(pid))
            self.processes = found
        return self.processes

    def read(self, server_cpu: float, pooler_cpu: float = 0.0) -> Reading:
        """The counters now; `server_cpu` and `pooler_cpu` are the target's, read by the caller."""
        own = self.own_xacts  # the bench's transactions that this reading's count includes
        xacts = self._query(XACTS)[1]
        backing = self._backing()
        cpu = None
        if len(backing) == 2:
            with contextlib.suppress(psutil.Error):
                cpu = sum(tree_cpu_seconds(process) for process in backing) + pooler_cpu
        return Reading(server_cpu, cpu, int(xacts) if xacts is not None else None, own)

    def quiet(self, since: float) -> None:
        """Wait until PostgreSQL has published every count of the work done before `since` (a
        monotonic time): until every other connection has been idle for PGSTAT_IDLE_INTERVAL, or that
        long after `since` at most."""
        deadline = since + PGSTAT_IDLE_INTERVAL + QUIET_MARGIN
        while time.monotonic() < deadline:
            _, idle_for, working = self._query(LAST_WORK)
            if not working and idle_for >= PGSTAT_IDLE_INTERVAL + QUIET_MARGIN:
                return
            time.sleep(QUIET_POLL)

    def close(self) -> None:
        """Close the connection and the loop."""
        if self.connection is not None and not self.connection.is_closed():
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.connection.close())
        self.loop.close()
