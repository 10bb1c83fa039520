"""The HTML report's charts, each an SVG document drawn by matplotlib: per scenario the req/s of every
target side by side, the latency percentiles, the CPU-per-request ladder as stacked bars and, from
`--profile`, each target's CPU split by whose code ran. The same SVGs serve the docs site
(`python -m bench report FILE --svg DIR`), so they are drawn reproducibly: no date, fixed ids."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, StrMethodFormatter

from bench import tables
from bench.report import BARE, BARE_NO_DB, FLOOR, GUIDES, SAME_WORK, STOREFRONT, Row

STYLE = {
    "svg.fonttype": "path",  # glyphs as paths: the same look whatever fonts the viewer has
    "svg.hashsalt": "storefront-bench",  # ids from the content, not at random: a redraw is the same file
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
WIDTH = 7.2  # inches: half of a wide screen at the page's scale, the docs' column at full width
COLORS = {
    STOREFRONT: "#1f5fbf",
    FLOOR: "#f28e2b",
    "asgi-same-work": "#edc948",
    SAME_WORK: "#59a14f",
    BARE: "#76b7b2",
    BARE_NO_DB: "#a0cbe8",
    GUIDES: "#e15759",
}
OTHER = "#8c8c8c"
THOUSANDS = StrMethodFormatter("{x:,.0f}")
# The ladders' axes: the figure of a row (bench.tables.WORKERS_CPU, SYSTEM_CPU) → its label.
LADDER_AXES = {
    tables.WORKERS_CPU: "the server workers' CPU, µs per request",
    tables.SYSTEM_CPU: "whole-system CPU, µs per request (server + PostgreSQL + Valkey)",
}
# What each rung of the ladder adds (bench.report.LADDER's layers), and its colour.
LAYERS = {
    "database": ("+ the database (query)", "#4e79a7"),
    "features": ("+ features: rate limit, request id, access line", "#59a14f"),
    "ASGI": ("+ ASGI instead of RSGI", "#edc948"),
    "Litestar": ("+ Litestar", "#f28e2b"),
    "Storefront's own": ("+ Storefront's own code", "#1f5fbf"),
}
BASE = "#bab0ac"
# `--profile`'s layers (bench.profile.layer_of), in the order they are stacked.
CODE = {
    "litestar": "#f28e2b",
    "storefront": "#1f5fbf",
    "bench app": "#76b7b2",
    "asyncpg": "#b07aa1",
    "valkey": "#e15759",
    "granian": "#9c755f",
    "asyncio": "#bab0ac",
    "stdlib": "#d4d4d4",
    "third-party": "#ff9da7",
}


def color(target: str) -> str:
    """A target's colour in every chart: Storefront's variants blue, the ceilings green, the rest grey."""
    if target in COLORS:
        return COLORS[target]
    return COLORS[STOREFRONT] if target.startswith(STOREFRONT) else COLORS[SAME_WORK] if "ceiling" in target else OTHER


@contextmanager
def figure(rows: int, panels: int = 1) -> Iterator[Figure]:
    """A figure tall enough for `rows` bars in each of `panels` panels, in the report's style."""
    with mpl.rc_context(STYLE):
        yield Figure(figsize=(WIDTH, panels * (1.3 + 0.32 * rows)), layout="constrained")


def svg(fig: Figure) -> str:
    """The figure as a standalone SVG document (no date or creator: a redraw gives the same bytes)."""
    with mpl.rc_context(STYLE):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def rps_chart(scenario: str, rows: dict[str, Row]) -> str:
    """Every target's req/s, side by side, with its value."""
    names = list(rows)
    values = [rows[name].result.rps for name in names]
    with figure(len(names)) as fig:
        ax = fig.subplots()
        bars = ax.barh(names, values, color=[color(name) for name in names])
        ax.bar_label(bars, labels=[f"{value:,.0f}" for value in values], padding=3)
        ax.set_xlim(0, max(values, default=1) * 1.15 or 1)
        ax.xaxis.set_major_formatter(THOUSANDS)
        ax.invert_yaxis()
        ax.set_xlabel("requests per second (higher is better)")
        ax.set_title(f"{scenario}: throughput", loc="left", fontweight="bold")
        return svg(fig)


def latency_chart(scenario: str, rows: dict[str, Row]) -> str:
    """Every target's p50, p95, p99 and max latency (on a log scale when they span more than a decade):
    the thick line spans p50 to p99."""
    names = list(rows)
    marks = (("p50_ms", "o", "p50"), ("p95_ms", "D", "p95"), ("p99_ms", "s", "p99"), ("max_ms", "x", "max"))
    with figure(len(names)) as fig:
        ax = fig.subplots()
        for y, name in enumerate(names):
            r = rows[name].result
            ax.plot([r.p50_ms, r.max_ms], [y, y], color=color(name), linewidth=1, alpha=0.5)
            ax.plot([r.p50_ms, r.p99_ms], [y, y], color=color(name), linewidth=4, solid_capstyle="butt")
            for field, marker, _ in marks:
                ax.plot(getattr(r, field), y, marker, color="black", markersize=4, fillstyle="none")
            ax.annotate(f"p99 {r.p99_ms:,.1f}", (r.max_ms, y), xytext=(8, -3), textcoords="offset points")
        ax.set_yticks(range(len(names)), names)
        low = min(rows[name].result.p50_ms for name in names)
        high = max(rows[name].result.max_ms for name in names)
        log = _latency_axis(ax, low, high)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_xlabel(f"latency, ms ({'log scale; ' if log else ''}lower is better)")
        fig.legend(
            handles=[ax.plot([], [], marker, color="black", fillstyle="none")[0] for _, marker, _ in marks],
            labels=[label for *_, label in marks],
            ncols=4,
            loc="outside lower center",
            fontsize=9,
            frameon=False,
        )
        ax.set_title(f"{scenario}: latency percentiles", loc="left", fontweight="bold")
        return svg(fig)


def _latency_axis(ax: Any, low: float, high: float) -> bool:
    """A log axis when the latencies span more than a decade (else linear), with room on the right for
    the labels; plain numbers as ticks, fewer of them the more decades. True when it is logarithmic."""
    if high <= 10 * max(low, 1e-3):
        ax.set_xlim(0, high * 1.35)
        ax.xaxis.set_major_formatter(THOUSANDS if high >= 10 else StrMethodFormatter("{x:g}"))
        return False
    ax.set_xscale("log")
    decades = math.log10(high / max(low, 1e-3))
    ax.set_xlim(low / 1.5, high * 10 ** (0.2 * decades + 0.15))
    subs = (1.0, 2.0, 5.0) if decades < 2.5 else (1.0, 3.0) if decades < 3.5 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    return True


def ladder_chart(scenario: str, rows: dict[str, Row]) -> str | None:
    """The CPU-per-request ladders (the workers', the whole system's) as stacked bars, each rung the one
    below it plus the layer it adds; a rung cheaper than the one below shows what it saves hatched.
    None when the run has no ladder (fewer than two rungs with a CPU figure)."""
    ladders = [(tables.ladder_steps(rows, figure), label) for figure, label in LADDER_AXES.items()]
    ladders = [(steps, label) for steps, label in ladders if len(steps) >= 2]
    if not ladders:
        return None
    with figure(max(len(steps) for steps, _ in ladders), len(ladders)) as fig:
        axes = fig.subplots(len(ladders), 1, squeeze=False)[:, 0]
        for ax, (steps, label) in zip(axes, ladders, strict=True):
            _draw_ladder(ax, steps)
            ax.set_xlabel(label)
        axes[0].set_title(f"{scenario}: CPU per request, layer by layer", loc="left", fontweight="bold")
        base = Patch(facecolor=BASE, label=f"{ladders[0][0][0][0]} (the base)")
        saved = Patch(facecolor="white", edgecolor="#555555", hatch="///", label="saved against the rung below")
        layers = {layer for steps, _ in ladders for _, _, layer in steps[1:]}
        patches = [Patch(facecolor=c, label=text) for layer, (text, c) in LAYERS.items() if layer in layers]
        fig.legend(handles=[base, *patches, saved], loc="outside lower center", ncols=2, fontsize=9, frameon=False)
        return svg(fig)


def _draw_ladder(ax: Any, steps: list[tuple[str, float, str]]) -> None:
    """One ladder's rungs, bottom up as top to bottom, each labelled with its total and its step."""
    stack: list[tuple[float, str]] = []  # the rung below's segments: (µs, colour)
    for y, (_, total, layer) in enumerate(steps):
        below = sum(width for width, _ in stack)
        if not stack:
            stack, note = [(total, BASE)], ""
        elif total >= below:
            stack, note = [*stack, (total - below, LAYERS[layer][1])], f" ({layer} {total - below:+.0f})"
        else:  # cheaper than the rung below: its stack cut at this total, the rest hatched
            ax.barh(y, below - total, left=total, color="white", edgecolor="#555555", hatch="///", linewidth=0.5)
            stack, note = _cut(stack, total), f" ({layer} {total - below:+.0f})"
        left = 0.0
        for width, shade in stack:
            ax.barh(y, width, left=left, color=shade)
            left += width
        ax.annotate(f"{total:,.0f} µs{note}", (max(total, below), y), xytext=(4, -3), textcoords="offset points")
    ax.set_yticks(range(len(steps)), [target for target, _, _ in steps])
    ax.set_xlim(0, max(max(total for _, total, _ in steps), 1) * 1.45)  # room for the labels
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.invert_yaxis()


def _cut(stack: list[tuple[float, str]], total: float) -> list[tuple[float, str]]:
    """The segments of `stack` up to `total`."""
    kept, left = [], 0.0
    for width, shade in stack:
        if left >= total:
            break
        kept.append((min(width, total - left), shade))
        left += width
    return kept


def profile_chart(scenario: str, profiles: dict[str, dict[str, Any]], rows: dict[str, Row]) -> str | None:
    """`--profile`: each profiled target's sampled time by whose code ran, in µs per request where its
    CPU per request is known (else in % of its samples). None without profiles."""
    names = [name for name, profile in profiles.items() if profile.get("samples")]
    if not names:
        return None
    in_us = all(name in rows and rows[name].cpu_us for name in names)
    with figure(len(names)) as fig:
        ax = fig.subplots()
        seen = set()
        for y, name in enumerate(names):
            left, scale = 0.0, (rows[name].cpu_us or 0) / 100 if in_us else 1.0
            shares = profiles[name]["layers_percent"]
            for layer in sorted(shares, key=lambda layer: list(CODE).index(layer) if layer in CODE else len(CODE)):
                width = shares[layer] * scale
                ax.barh(y, width, left=left, color=CODE.get(layer, OTHER), label=None if layer in seen else layer)
                seen.add(layer)
                left += width
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel("workers' CPU µs per request, by whose code ran" if in_us else "% of the samples")
        fig.legend(loc="outside lower center", ncols=5, fontsize=9, frameon=False)
        ax.set_title(f"{scenario}: where the time goes (py-spy)", loc="left", fontweight="bold")
        return svg(fig)


def scenario_charts(scenario: str, rows: dict[str, Row], profiles: dict[str, dict[str, Any]]) -> dict[str, str]:
    """One scenario's charts by name (`rps`, `latency`, and `cpu` and `profile` where the run has them)."""
    charts = {"rps": rps_chart(scenario, rows), "latency": latency_chart(scenario, rows)}
    optional = {"cpu": ladder_chart(scenario, rows), "profile": profile_chart(scenario, profiles, rows)}
    return charts | {name: chart for name, chart in optional.items() if chart is not None}
