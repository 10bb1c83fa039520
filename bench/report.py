"""A bench run's figures: the target names, one run's `Row` and the median of several rounds, the
shares of the ceilings and the multiples of the guides' stack and of Storefront without its read
cache (`bench.tables` shows them)."""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.staleness import Coherence
from bench.wrk import WrkResult

STOREFRONT = "storefront"
BARE = "ceiling-bare"
BARE_NO_DB = "ceiling-bare-no-db"  # bare, with every answer read from memory (item-get and me)
SAME_WORK = "ceiling-same-work"
FLOOR = "framework-floor"
ASGI_SAME_WORK = "asgi-same-work"
GUIDES = "guides-stack"
PGBOUNCER = "storefront-pgbouncer"  # Storefront through PgBouncer in transaction mode
# Storefront connected directly with DB_PGBOUNCER=transaction's pool (no statement cache): splits
# PgBouncer's cost into asyncpg's extra round trip per query and the pooler's hop.
UNCACHED = "storefront-uncached"
# Storefront exporting traces (`--otel`) to a local OTLP sink: every request sampled, or 1 % of them
# (parent-based ratio); `storefront` is the same server with tracing off.
OTEL_ALL = "storefront-otel-100"
OTEL_RATIO = "storefront-otel-1"
# Storefront with READ_CACHE=off (otherwise identical): what its per-worker read cache buys.
CACHE_OFF = "storefront-read-cache-off"
# cache-coherence: reads on a second instance (B) while `storefront` (A) takes the writes.
COHERENCE_READS = "storefront-b"
COHERENCE_WRITES = "storefront-writes"
LADDER = (
    (BARE_NO_DB, ""),
    (BARE, "database"),
    (SAME_WORK, "features"),
    (ASGI_SAME_WORK, "ASGI"),
    (FLOOR, "Litestar"),
    (STOREFRONT, "Storefront's own"),
)


@dataclass
class Row:
    """One wrk run of one target in one scenario, with the workers' memory after it."""

    target: str
    result: WrkResult
    rss_mib: list[float] = field(default_factory=list)
    round_rps: list[float] = field(default_factory=list)  # every round's req/s, when there were several
    cpu_us: float | None = None  # the workers' CPU time per request (user + system), in µs
    pooler_cpu_us: float | None = None  # PgBouncer's own CPU time per request, when it is in the path
    # The server's processes + PostgreSQL's (the postmaster and every child) + Valkey (+ PgBouncer).
    system_cpu_us: float | None = None
    pg_xacts: float | None = None  # PostgreSQL transactions (commits + rollbacks) per request
    coherence: Coherence | None = None  # cache-coherence's delays and stale reads

    def as_dict(self) -> dict[str, Any]:
        """A plain dict for the results file."""
        row = {
            "target": self.target,
            **self.result.as_dict(),
            "errors": self.result.errors,
            "rss_mib": self.rss_mib,
            "cpu_us_per_request": self.cpu_us,
            "pooler_cpu_us_per_request": self.pooler_cpu_us,
            "system_cpu_us_per_request": self.system_cpu_us,
            "pg_xacts_per_request": self.pg_xacts,
        }
        if self.coherence is not None:
            row["coherence"] = self.coherence.summary()
        return {**row, "round_rps": self.round_rps} if self.round_rps else row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Row:
        """A row of a results file (`as_dict`'s output) back, without cache-coherence's raw delays."""
        result = WrkResult(**{name.name: row[name.name] for name in dataclasses.fields(WrkResult)})
        return cls(
            row["target"],
            result,
            row.get("rss_mib", []),
            row.get("round_rps", []),
            cpu_us=row.get("cpu_us_per_request"),
            pooler_cpu_us=row.get("pooler_cpu_us_per_request"),
            system_cpu_us=row.get("system_cpu_us_per_request"),
            pg_xacts=row.get("pg_xacts_per_request"),
        )


def median_rows(rounds: list[dict[str, Row]]) -> dict[str, Row]:
    """Per target, the round with the median req/s — carrying the errors of every round, the largest
    RSS seen, each round's req/s, and the median of the rounds' CPU per request."""
    if len(rounds) == 1:
        return rounds[0]
    merged = {}
    for target in rounds[0]:
        runs = sorted((one[target] for one in rounds), key=lambda row: row.result.rps)
        middle = runs[(len(runs) - 1) // 2]
        result = dataclasses.replace(
            middle.result,
            socket_errors=sum(row.result.socket_errors for row in runs),
            non_2xx=sum(row.result.non_2xx for row in runs),
        )
        rss = max(runs, key=lambda row: max(row.rss_mib, default=0.0)).rss_mib
        coherence = [row.coherence for row in runs if row.coherence is not None]
        merged[target] = Row(
            target,
            result,
            rss,
            [one[target].result.rps for one in rounds],
            cpu_us=_median([row.cpu_us for row in runs]),
            pooler_cpu_us=_median([row.pooler_cpu_us for row in runs]),
            system_cpu_us=_median([row.system_cpu_us for row in runs]),
            pg_xacts=_median([row.pg_xacts for row in runs], digits=4),
            coherence=Coherence.merge(coherence) if coherence else None,
        )
    return merged


def _median(values: list[float | None], digits: int = 1) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.median(known), digits) if known else None


def rps_ratio(rows: dict[str, Row], target: str, other: str) -> float | None:
    """`target`'s req/s over `other`'s (None when either is missing or `other` served nothing). With
    several rounds, the median of the per-round ratios: a round runs its targets back to back, so
    background load skews them alike."""
    mine, theirs = rows.get(target), rows.get(other)
    if mine is None or theirs is None:
        return None
    if len(mine.round_rps) > 1 and len(mine.round_rps) == len(theirs.round_rps) and all(theirs.round_rps):
        return statistics.median(a / b for a, b in zip(mine.round_rps, theirs.round_rps, strict=True))
    return mine.result.rps / theirs.result.rps if theirs.result.rps else None


def ceiling_shares(rows: dict[str, Row], target: str = STOREFRONT) -> dict[str, float | None]:
    """`target`'s req/s as a % of each ceiling's (the median of the per-round shares)."""
    shares: dict[str, float | None] = {}
    for ceiling in (BARE, SAME_WORK):
        ratio = rps_ratio(rows, target, ceiling)
        shares[ceiling] = None if ratio is None else round(100.0 * ratio, 1)
    return shares


def guides_factor(rows: dict[str, Row]) -> float | None:
    """Storefront's req/s as a multiple of the guides' stack's (the median of the per-round ratios)."""
    ratio = rps_ratio(rows, STOREFRONT, GUIDES)
    return None if ratio is None else round(ratio, 1)


def cache_factor(rows: dict[str, Row]) -> float | None:
    """Storefront's req/s as a multiple of its own without the read cache (the median of the
    per-round ratios)."""
    ratio = rps_ratio(rows, STOREFRONT, CACHE_OFF)
    return None if ratio is None else round(ratio, 2)
