"""What one `just bench` invocation measures: the command line (`Options`), the scenarios and which
targets serve each, the load's fixed figures, and the run plan."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
    "cache-coherence",
)
CEILING_SCENARIOS = frozenset({"item-get", "item-list", "me", "order-create"})
ASGI_SCENARIOS = frozenset({"item-get", "item-list", "me"})
GUIDES_SCENARIOS = frozenset({"item-get", "item-list", "me"})
PGBOUNCER_SCENARIOS = CEILING_SCENARIOS
OTEL_SCENARIOS = CEILING_SCENARIOS
# What the read cache serves: Storefront runs beside itself with READ_CACHE=off, and the no-database
# ceiling beside the others.
CACHE_SCENARIOS = frozenset({"item-get", "me"})
# …and where a write pays for it (its answer waits for its own invalidations): READ_CACHE=off beside it.
CACHE_OFF_SCENARIOS = CACHE_SCENARIOS | {"order-create"}
COHERENCE = "cache-coherence"
COHERENCE_WRITES_PER_S = 20  # the writer's pace on instance A
COHERENCE_READERS = 4  # connections polling instance B, each sending its next read on an answer
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
DESCRIPTION = """`just bench`: seed a throwaway database, start Storefront as production runs it and its references
beside it (the framework-free ceilings, the framework floor, the guides' stack), drive each with wrk,
and report."""


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
    otel: bool = False

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="just bench", description=DESCRIPTION)
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
        "--otel",
        action="store_true",
        help="instead of the references: Storefront with OpenTelemetry tracing on (every request sampled, and "
        "1 %% by parent-based ratio) exporting to a local OTLP sink, beside itself with tracing off, in "
        "item-get, item-list, me and order-create",
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
    return parser


def parse_args(argv: list[str] | None = None) -> Options:
    """Options from the command line; `--quick` shortens every run (a CI smoke test)."""
    parser = _parser()
    args = parser.parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 10.0)
    if duration <= 0 or min(args.connections, args.workers, args.threads, args.rounds) < 1 or args.instances < 0:
        parser.error("--duration, --connections, --workers, --threads, --rounds and --instances must be positive")
    if sum(map(bool, (args.instances, args.pgbouncer, args.otel))) > 1:
        parser.error("--instances, --pgbouncer and --otel are separate benches: choose one")
    if args.instances and not set(args.scenario or ["item-get"]) <= CEILING_SCENARIOS:
        parser.error(f"--instances measures {', '.join(sorted(CEILING_SCENARIOS))}")
    default = ["item-get"] if args.instances else sorted(OTEL_SCENARIOS) if args.otel else SCENARIOS
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
        otel=args.otel,
    )


def plan(scenarios: tuple[str, ...], pgbouncer: bool = False, otel: bool = False) -> list[tuple[str, str]]:
    """(scenario, target) pairs in run order: Storefront first, then itself without its read cache and
    the references that serve the scenario; with `pgbouncer`, Storefront alone, direct, through
    PgBouncer and direct without a statement cache; with `otel`, Storefront with tracing off, on for
    every request and on for 1 %; cache-coherence, its second instance."""
    runs = []
    for scenario in scenarios:
        if scenario == COHERENCE:  # `storefront` takes the writes, a second instance the reads
            runs.append((scenario, COHERENCE_READS))
            continue
        runs.append((scenario, STOREFRONT))
        if otel:
            runs += [(scenario, OTEL_ALL), (scenario, OTEL_RATIO)] if scenario in OTEL_SCENARIOS else []
            continue
        if pgbouncer:
            runs += [(scenario, PGBOUNCER), (scenario, UNCACHED)] if scenario in PGBOUNCER_SCENARIOS else []
            continue
        if scenario in CACHE_OFF_SCENARIOS:
            runs.append((scenario, CACHE_OFF))
        if scenario in CEILING_SCENARIOS:
            runs.append((scenario, FLOOR))
            runs += [(scenario, BARE_NO_DB)] if scenario in CACHE_SCENARIOS else []
            runs += [(scenario, BARE), (scenario, SAME_WORK)]
        if scenario in ASGI_SCENARIOS:
            runs.append((scenario, ASGI_SAME_WORK))
        if scenario in GUIDES_SCENARIOS:
            runs.append((scenario, GUIDES))
    return runs


def settings(options: Options) -> dict[str, Any]:
    """The results file's `settings`: the options, the connections they imply, and what every server runs with."""
    return {
        **asdict(options),
        "storm_connections": options.storm_connections,
        "popular_connections": options.popular_connections,
        "order_trickle": {"connections": TRICKLE_CONNECTIONS, "pause_ms": TRICKLE_PAUSE_MS},
        "coherence": {"writes_per_s": COHERENCE_WRITES_PER_S, "readers": COHERENCE_READERS},
        "environment": "production",
        "log_level": "INFO (access log to a file)",
        "rate_limits": {"general_per_minute": NO_LIMIT, "login_per_minute": NO_LIMIT, "register_per_hour": NO_LIMIT},
    }
