"""Starting what a bench measures: its databases (migrated and seeded), PgBouncer, and each target's
server — Storefront as production runs it, the ceilings, the framework floor, the guides' stack. Everything
started here is stopped by the invocation's exit stack."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time

from bench.databases import EmbeddedServers
from bench.guides_venv import GUIDES_LOCK, GUIDES_VENV, ensure_venv
from bench.infra import (
    ROOT,
    Server,
    StartFailed,
    clean_environment,
    granian_command,
    process_cpu_seconds,
    uvicorn_command,
    uvicorn_workers,
)
from bench.options import NO_LIMIT, POOL_PER_WORKER, POPULAR, SPARE_CONNECTIONS, Options
from bench.otlp_sink import OtlpSink
from bench.report import (
    ASGI_SAME_WORK,
    BARE,
    BARE_NO_DB,
    CACHE_OFF,
    COHERENCE_READS,
    FLOOR,
    GUIDES,
    OTEL_ALL,
    OTEL_RATIO,
    PGBOUNCER,
    SAME_WORK,
    STOREFRONT,
    UNCACHED,
)
from bench.seed import ORDERS, POPULAR_ORDERS, Seeded, seed
from bench.system import SystemMeter
from bench.workspace import Workspace
from storefront.accounts.tokens import AUDIENCE, ISSUER
from storefront.launch.children import ChildError, free_port
from storefront.launch.pgbouncer import PgBouncer


class Targets:
    """The servers under test by target name, and PgBouncer when one runs."""

    def __init__(self, options: Options, workspace: Workspace, stack: contextlib.ExitStack) -> None:
        self.options = options
        self.workspace = workspace
        self.stack = stack
        self.servers: dict[str, Server] = {}
        self.pooler: PgBouncer | None = None
        self.meter: SystemMeter | None = None
        self.database_url = self.valkey_url = ""
        self.otlp: OtlpSink | None = None  # `--otel`'s collector, once started

    def databases(self) -> tuple[EmbeddedServers, str, str, Seeded]:
        """PostgreSQL and Valkey up (stopped at the end), migrated and seeded: (servers, database URL,
        Valkey URL, what was seeded)."""
        from storefront.platform.migrations import apply_migrations

        embedded = EmbeddedServers(self.workspace.root, os.environ.get("DATABASE_URL"), os.environ.get("VALKEY_URL"))
        self.stack.callback(embedded.stop)
        database_url, valkey_url = embedded.start()
        self.database_url = database_url
        asyncio.run(apply_migrations(database_url))
        self.meter = SystemMeter(database_url, valkey_url)
        self.stack.callback(self.meter.close)
        orders = POPULAR_ORDERS if POPULAR in self.options.scenarios else ORDERS
        seeded = seed(database_url, self.workspace.secret, self.workspace.data, orders)
        print(
            f"seeded {seeded.users:,} users, {seeded.items:,} items, {seeded.orders:,} orders and "
            f"{seeded.sessions:,} sessions in {seeded.seconds:.1f} s",
            flush=True,
        )
        return embedded, database_url, valkey_url, seeded

    def start_all(self, wanted: set[str]) -> Seeded:
        """Databases up, migrated and seeded; the server of every `wanted` target started and ready."""
        embedded, database_url, valkey_url, seeded = self.databases()
        embedded.allow_connections(len(wanted) * self.options.workers * POOL_PER_WORKER + SPARE_CONNECTIONS)
        self.start(STOREFRONT, self.storefront(database_url, valkey_url))
        # cache-coherence's second instance starts when that scenario runs (`second_instance`): its
        # cache's heartbeats (PostgreSQL transactions) stay out of every other window.
        self.valkey_url = valkey_url
        if CACHE_OFF in wanted:
            self.start(CACHE_OFF, self.storefront(database_url, valkey_url, CACHE_OFF))
        if OTEL_ALL in wanted:
            self.start_traced(database_url, valkey_url)
        if PGBOUNCER in wanted:
            self.start(PGBOUNCER, self.storefront(self.pgbouncer(database_url), valkey_url, PGBOUNCER, database_url))
            self.start(UNCACHED, self.storefront(database_url, valkey_url, UNCACHED, database_url))
        for mode, target in (("bare-no-db", BARE_NO_DB), ("bare", BARE), ("same-work", SAME_WORK)):
            if target in wanted:
                self.start(target, self.ceiling(mode, database_url, valkey_url))
        if FLOOR in wanted:
            self.start(FLOOR, self.ceiling("same-work", database_url, valkey_url, FLOOR))
        if ASGI_SAME_WORK in wanted:
            self.start(ASGI_SAME_WORK, self.ceiling("same-work", database_url, valkey_url, ASGI_SAME_WORK))
        if GUIDES in wanted:
            self.start(GUIDES, self.guides(database_url))
        return seeded

    def start_traced(self, database_url: str, valkey_url: str) -> None:
        """`--otel`: a local OTLP sink, and Storefront exporting to it with every request sampled
        (OTEL_ALL) and 1 % of them (OTEL_RATIO, by parent-based ratio: a new trace is sampled at 1 %)."""
        self.otlp = sink = OtlpSink()
        self.stack.callback(sink.stop)
        for target, ratio in ((OTEL_ALL, "1.0"), (OTEL_RATIO, "0.01")):
            tracing = {
                "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
                "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": ratio,
            }
            self.start(target, self.storefront(database_url, valkey_url, target, **tracing))

    def second_instance(self) -> Server:
        """cache-coherence's instance B, started on first use."""
        if COHERENCE_READS not in self.servers:
            self.start(COHERENCE_READS, self.storefront(self.database_url, self.valkey_url, COHERENCE_READS))
        return self.servers[COHERENCE_READS]

    def start(self, target: str, server: Server) -> None:
        """Launch `server` as the one that serves `target`."""
        self.servers[target] = self.launch(server)

    def launch(self, server: Server) -> Server:
        """Start `server` (stopped at the end) and wait until it is ready."""
        self.stack.callback(server.stop)
        server.start()
        return server

    def pgbouncer(self, database_url: str) -> str:
        """PgBouncer in transaction mode in front of the bench's PostgreSQL (as `just cluster` runs
        it); its URL."""
        self.pooler = PgBouncer(self.workspace.root / "pgbouncer", database_url, free_port())
        self.stack.callback(self.pooler.stop)
        try:
            return self.pooler.start()
        except ChildError as exc:
            raise StartFailed(str(exc)) from None

    def pooler_cpu_seconds(self, target: str) -> float:
        """PgBouncer's CPU time so far, when `target` goes through it (else 0)."""
        if target != PGBOUNCER or self.pooler is None or self.pooler.child is None or self.pooler.child.pid is None:
            return 0.0
        return process_cpu_seconds(self.pooler.child.pid)

    def storefront(
        self,
        database_url: str,
        valkey_url: str,
        target: str = STOREFRONT,
        direct_url: str | None = None,
        **extra: str,
    ) -> Server:
        """`python -m storefront serve` with production settings and limits out of reach; with
        `direct_url`, `database_url` is a transaction pooler (DB_PGBOUNCER=transaction); as CACHE_OFF,
        with READ_CACHE=off; `extra` variables on top."""
        port = free_port()
        pooled = {"DB_PGBOUNCER": "transaction", "MIGRATIONS_DATABASE_URL": direct_url} if direct_url else {}
        env = clean_environment(
            **pooled,
            READ_CACHE="off" if target == CACHE_OFF else "on",
            ENVIRONMENT="production",
            MAIL_DISABLED="true",
            HOST="127.0.0.1",
            PORT=str(port),
            WORKERS=str(self.options.workers),
            DATA_DIR=str(self.workspace.root / ("data" if target == STOREFRONT else f"data-{target}")),
            DATABASE_URL=database_url,
            VALKEY_URL=valkey_url,
            SECRET_KEY=self.workspace.secret,
            RATE_LIMIT_PER_MINUTE=NO_LIMIT,
            LOGIN_RATE_LIMIT_PER_MINUTE=NO_LIMIT,
            REGISTER_RATE_LIMIT_PER_HOUR=NO_LIMIT,
            **extra,
        )
        command = [sys.executable, "-m", "storefront", "serve"]
        return Server(target, command, env, port, self.workspace.log(target), cwd=self.workspace.root)

    def ceiling(self, mode: str, database_url: str, valkey_url: str, target: str = "") -> Server:
        """`bench.ceiling:app` under Granian RSGI with the same worker count; as FLOOR, the same work
        through a minimal Litestar app (`bench.floor:app`), as ASGI_SAME_WORK through a raw ASGI app
        (`bench.floor:asgi_app`): both under Granian's ASGI interface."""
        port = free_port()
        env = clean_environment(
            CEILING_MODE=mode,
            DATABASE_URL=database_url,
            VALKEY_URL=valkey_url,
            SECRET_KEY=self.workspace.secret,
            RATE_LIMIT_PER_MINUTE=NO_LIMIT,
        )
        apps = {FLOOR: ("asgi", "bench.floor:app"), ASGI_SAME_WORK: ("asgi", "bench.floor:asgi_app")}
        interface, app = apps.get(target, ("rsgi", "bench.ceiling:app"))
        command = granian_command(interface, app, self.options.workers, port)
        target = target or f"ceiling-{mode}"
        return Server(target, command, env, port, self.workspace.log(target), cwd=self.workspace.root)

    def guides(self, database_url: str) -> Server:
        """The guides' stack (`bench.guides.app:app`) under uvicorn, from its own venv (made on demand
        from its lock): Storefront's code is not on its path, and it gets Storefront's token claims."""
        started = time.monotonic()
        if ensure_venv():
            lock = GUIDES_LOCK.relative_to(ROOT)
            print(f"{GUIDES}: {GUIDES_VENV.name} made from {lock} in {time.monotonic() - started:.1f} s", flush=True)
        port = free_port()
        env = clean_environment(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=database_url,
            SECRET_KEY=self.workspace.secret,
            JWT_ISSUER=ISSUER,
            JWT_AUDIENCE=AUDIENCE,
        )
        command = uvicorn_command(GUIDES_VENV / "bin" / "python", "bench.guides.app:app", self.options.workers, port)
        log = self.workspace.log(GUIDES)
        return Server(GUIDES, command, env, port, log, cwd=self.workspace.root, find_workers=uvicorn_workers)
