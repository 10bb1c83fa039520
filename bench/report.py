"""A bench run's figures and how they are shown: the target names, one run's `Row` and the median of
several rounds, the shares of the ceilings and the multiple of the guides' stack, the per-scenario tables
and the summary table."""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.wrk import WrkResult

STOREFRONT = "storefront"
BARE = "ceiling-bare"
SAME_WORK = "ceiling-same-work"
FLOOR = "framework-floor"
ASGI_SAME_WORK = "asgi-same-work"
GUIDES = "guides-stack"
PGBOUNCER = "storefront-pgbouncer"  # Storefront through PgBouncer in transaction mode
# Storefront connected directly with DB_PGBOUNCER=transaction's pool (no statement cache): splits
# PgBouncer's cost into asyncpg's extra round trip per query and the pooler's hop.
UNCACHED = "storefront-uncached"
LADDER = (
    (BARE, ""),
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

    def as_dict(self) -> dict[str, Any]:
        """A plain dict for the results file."""
        row = {
            "target": self.target,
            **self.result.as_dict(),
            "errors": self.result.errors,
            "rss_mib": self.rss_mib,
            "cpu_us_per_request": self.cpu_us,
            "pooler_cpu_us_per_request": self.pooler_cpu_us,
        }
        return {**row, "round_rps": self.round_rps} if self.round_rps else row


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
        merged[target] = Row(
            target,
            result,
            rss,
            [one[target].result.rps for one in rounds],
            _median([row.cpu_us for row in runs]),
            _median([row.pooler_cpu_us for row in runs]),
        )
    return merged


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(statistics.median(known), 1) if known else None


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


def _fmt(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}{suffix}" if value >= 100 else f"{value:.1f}{suffix}"


def table(header: list[str], lines: Iterable[list[str]]) -> str:
    """A Markdown table: `header`, then `lines`; each column as wide as its widest cell."""
    body = [header, *lines]
    widths = [max(len(line[i]) for line in body) for i in range(len(header))]
    rendered = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |" for line in body]
    rendered.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(rendered)


def scenario_table(scenario: str, rows: dict[str, Row]) -> str:
    """The table of one scenario: every target's throughput, latency, errors, share and memory."""
    header = ["target", "req/s", "CPU µs/req", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "non-2xx"]
    header += ["% bare", "% same-work", "RSS/worker MiB"]
    lines = []
    for target, row in rows.items():
        r = row.result
        own = target in (STOREFRONT, FLOOR)
        shares = ceiling_shares(rows, target)
        lines.append(
            [
                target,
                f"{r.rps:,.0f}",
                _fmt(row.cpu_us),
                f"{r.p50_ms:.2f}",
                f"{r.p95_ms:.2f}",
                f"{r.p99_ms:.2f}",
                f"{r.max_ms:.1f}",
                str(r.socket_errors),
                str(r.non_2xx),
                _fmt(shares[BARE], " %") if own else "",
                _fmt(shares[SAME_WORK], " %") if own else "",
                ", ".join(f"{size:.0f}" for size in row.rss_mib) or "—",
            ]
        )
    notes = [note for note in (ladder(rows), pgbouncer_cost(rows)) if note]
    return f"{scenario}\n" + table(header, lines) + "".join(f"\n{note}" for note in notes)


def pgbouncer_cost(rows: dict[str, Row]) -> str | None:
    """What PgBouncer in transaction mode costs against the direct connection: req/s (the median of
    the per-round ratios), the workers' CPU per request, and PgBouncer's own."""
    direct, pooled, uncached = rows.get(STOREFRONT), rows.get(PGBOUNCER), rows.get(UNCACHED)
    ratio = rps_ratio(rows, PGBOUNCER, STOREFRONT)
    if direct is None or pooled is None or ratio is None:
        return None
    line = f"through PgBouncer: {100 * ratio:.0f} % of the direct connection's req/s"
    if uncached is not None and (alone := rps_ratio(rows, UNCACHED, STOREFRONT)) is not None:
        line += f" (direct without the statement cache: {100 * alone:.0f} %)"
    if direct.cpu_us and pooled.cpu_us:
        line += (
            f"; workers' CPU {pooled.cpu_us:.0f} µs/req against {direct.cpu_us:.0f} "
            f"({100 * (pooled.cpu_us / direct.cpu_us - 1):+.0f} %)"
        )
    if pooled.pooler_cpu_us is not None:
        line += f", plus PgBouncer's own {pooled.pooler_cpu_us:.0f} µs/req"
    return line


def ladder(rows: dict[str, Row]) -> str | None:
    """CPU µs per request from the bare ceiling up to Storefront, with what each layer adds:
    the features (rate limit, request id, access line), Litestar itself, and Storefront's own code."""
    steps = [(target, cpu, layer) for target, layer in LADDER if target in rows and (cpu := rows[target].cpu_us)]
    if len(steps) < 2:
        return None
    parts = [f"{steps[0][0]} {steps[0][1]:.0f}"]
    for (_, before, _), (target, cpu, layer) in itertools.pairwise(steps):
        parts.append(f"{target} {cpu:.0f} ({layer} {cpu - before:+.0f})")
    return "CPU µs/req: " + " → ".join(parts)


def summary_table(results: dict[str, dict[str, Row]]) -> str:
    """Storefront in every scenario, one line each (the README's table)."""
    header = ["scenario", "req/s", "CPU µs/req", "p50 ms", "p99 ms", "errors", "% of bare", "% of same-work"]
    header += ["× guides", "RSS/worker MiB"]
    lines = []
    for scenario, rows in results.items():
        for target, row in rows.items():
            if not target.startswith(STOREFRONT):
                continue
            own = target == STOREFRONT
            shares = ceiling_shares(rows) if own else {BARE: None, SAME_WORK: None}
            factor = guides_factor(rows) if own else None
            name = scenario if target == STOREFRONT else f"{scenario} ({target.removeprefix(STOREFRONT + '-')})"
            lines.append(
                [
                    name,
                    f"{row.result.rps:,.0f}",
                    _fmt(row.cpu_us),
                    f"{row.result.p50_ms:.2f}",
                    f"{row.result.p99_ms:.2f}",
                    str(row.result.errors),
                    _fmt(shares[BARE], " %"),
                    _fmt(shares[SAME_WORK], " %"),
                    "—" if factor is None else f"{factor:.1f}×",
                    f"{max(row.rss_mib):.0f}" if row.rss_mib else "—",
                ]
            )
    return table(header, lines)
