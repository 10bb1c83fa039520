"""How a bench run's figures are shown: the per-scenario tables with their notes (the CPU ladders,
the read cache's gain, PgBouncer's cost, cache-coherence's delays) and the summary table."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from bench.report import (
    BARE,
    CACHE_OFF,
    FLOOR,
    LADDER,
    OTEL_ALL,
    OTEL_RATIO,
    PGBOUNCER,
    SAME_WORK,
    STOREFRONT,
    UNCACHED,
    Row,
    cache_factor,
    ceiling_shares,
    guides_factor,
    rps_ratio,
)

# The ladders: which figure of a row, and how its line starts.
WORKERS_CPU = ("cpu_us", "CPU µs/req")
SYSTEM_CPU = ("system_cpu_us", "whole-system CPU µs/req (server + PostgreSQL + Valkey)")


def _fmt(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}{suffix}" if value >= 100 else f"{value:.1f}{suffix}"


def _xacts(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(header: list[str], lines: Iterable[list[str]]) -> str:
    """A Markdown table: `header`, then `lines`; each column as wide as its widest cell."""
    body = [header, *lines]
    widths = [max(len(line[i]) for line in body) for i in range(len(header))]
    rendered = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |" for line in body]
    rendered.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(rendered)


SCENARIO_HEADER = ["target", "req/s", "CPU µs/req", "system µs/req", "PG xact/req", "p50 ms", "p95 ms", "p99 ms"]
SCENARIO_HEADER += ["max ms", "errors", "non-2xx", "% bare", "% same-work", "RSS/worker MiB"]


def scenario_lines(rows: dict[str, Row]) -> list[list[str]]:
    """One scenario's table body (SCENARIO_HEADER's columns): every target's throughput, latency,
    errors, share and memory."""
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
                _fmt(row.system_cpu_us),
                _xacts(row.pg_xacts),
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
    return lines


def scenario_notes(rows: dict[str, Row]) -> list[str]:
    """The lines under one scenario's table: its CPU ladders, the read cache's gain, PgBouncer's and
    tracing's cost, where the run has them (cache-coherence's delays are the rows' own)."""
    notes = [ladder(rows), ladder(rows, SYSTEM_CPU), read_cache_gain(rows), pgbouncer_cost(rows), tracing_cost(rows)]
    return [note for note in notes if note]


def scenario_table(scenario: str, rows: dict[str, Row]) -> str:
    """The table of one scenario with its notes."""
    coherence = [row.coherence.line() for row in rows.values() if row.coherence is not None]
    notes = [*scenario_notes(rows), *coherence]
    return f"{scenario}\n" + table(SCENARIO_HEADER, scenario_lines(rows)) + "".join(f"\n{note}" for note in notes)


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


def tracing_cost(rows: dict[str, Row]) -> str | None:
    """What tracing costs (`--otel`): the workers' CPU per request with tracing off, on for every
    request and on for 1 %, and each one's req/s against tracing off (the median of the per-round
    ratios)."""
    off = rows.get(STOREFRONT)
    if off is None or not off.cpu_us or OTEL_ALL not in rows:
        return None
    parts = [f"off {off.cpu_us:.0f}"]
    for target, label in ((OTEL_ALL, "100 %"), (OTEL_RATIO, "1 %")):
        row, ratio = rows.get(target), rps_ratio(rows, target, STOREFRONT)
        if row is not None and row.cpu_us and ratio is not None:
            parts.append(
                f"{label} {row.cpu_us:.0f} ({100 * (row.cpu_us / off.cpu_us - 1):+.0f} %, req/s {100 * ratio:.0f} %)"
            )
    return "tracing, workers' CPU µs/req: " + ", ".join(parts)


def ladder(rows: dict[str, Row], figure: tuple[str, str] = WORKERS_CPU) -> str | None:
    """CPU µs per request (the workers', or with SYSTEM_CPU the whole system's) from the no-database
    ceiling up to Storefront, with what each layer adds: the database, the features (rate limit,
    request id, access line), ASGI, Litestar itself, and Storefront's own code (its read cache included)."""
    steps = ladder_steps(rows, figure)
    if len(steps) < 2:
        return None
    label = figure[1]
    parts = [f"{steps[0][0]} {steps[0][1]:.0f}"]
    for (_, before, _), (target, cpu, layer) in itertools.pairwise(steps):
        parts.append(f"{target} {cpu:.0f} ({layer} {cpu - before:+.0f})")
    return f"{label}: " + " → ".join(parts)


def ladder_steps(rows: dict[str, Row], figure: tuple[str, str] = WORKERS_CPU) -> list[tuple[str, float, str]]:
    """The ladder's rungs this run has, bottom up: (target, CPU µs per request, the layer it adds)."""
    return [(t, cpu, layer) for t, layer in LADDER if t in rows and (cpu := getattr(rows[t], figure[0]))]


def read_cache_gain(rows: dict[str, Row]) -> str | None:
    """What the read cache buys: req/s (the median of the per-round ratios), then the workers' and
    the whole system's CPU and PostgreSQL's transactions per request, cached against READ_CACHE=off."""
    cached, plain, factor = rows.get(STOREFRONT), rows.get(CACHE_OFF), cache_factor(rows)
    if cached is None or plain is None or factor is None:
        return None
    line = f"read cache: {factor:.2f}× the req/s of {CACHE_OFF}"
    for label, mine, theirs in (
        ("workers' CPU", cached.cpu_us, plain.cpu_us),
        ("whole-system CPU", cached.system_cpu_us, plain.system_cpu_us),
    ):
        if mine is not None and theirs is not None:
            line += f"; {label} {mine:.0f} against {theirs:.0f} µs/req"
    if cached.pg_xacts is not None and plain.pg_xacts is not None:
        line += f"; PostgreSQL {cached.pg_xacts:.3f} against {plain.pg_xacts:.3f} transactions/req"
    return line


SUMMARY_HEADER = ["scenario", "req/s", "CPU µs/req", "system µs/req", "PG xact/req", "p50 ms", "p99 ms", "errors"]
SUMMARY_HEADER += ["% of bare", "% of same-work", "× guides", "RSS/worker MiB"]


def summary_table(results: dict[str, dict[str, Row]]) -> str:
    """Storefront in every scenario, one line each (the table of docs/performance.md)."""
    return table(SUMMARY_HEADER, summary_lines(results))


def summary_lines(results: dict[str, dict[str, Row]]) -> list[list[str]]:
    """The summary table's body (SUMMARY_HEADER's columns): Storefront's runs in every scenario."""
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
                    _fmt(row.system_cpu_us),
                    _xacts(row.pg_xacts),
                    f"{row.result.p50_ms:.2f}",
                    f"{row.result.p99_ms:.2f}",
                    str(row.result.errors),
                    _fmt(shares[BARE], " %"),
                    _fmt(shares[SAME_WORK], " %"),
                    "—" if factor is None else f"{factor:.1f}×",
                    f"{max(row.rss_mib):.0f}" if row.rss_mib else "—",
                ]
            )
    return lines
