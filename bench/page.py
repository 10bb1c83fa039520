"""The bench's HTML report: one self-contained page per results file, written beside it (`NAME.html`
next to `NAME.json`) — the run's facts, Storefront's summary and the issues' targets, then per scenario
its charts (`bench.charts`), its table and notes, and with `--profile` where the time went and a
flame graph of each worker. Everything is inline (SVG, styles, the flame graphs as data: URLs): the
page opens offline and can be mailed or attached as one file."""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import time
from pathlib import Path
from typing import Any

from bench import charts, tables
from bench.report import STOREFRONT, Row
from bench.staleness import summary_line

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 0 auto; padding: 1rem 2rem; max-width: 1500px; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.facts { color: #555; margin: .2rem 0; } nav a { margin-right: .8rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1rem; }
.charts svg { width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 12.5px; margin: .8rem 0; }
th, td { padding: .2rem .5rem; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; } th { background: #f4f4f4; }
.wide { overflow-x: auto; } .notes li { margin: .15rem 0; }
.holds { color: #2a7d2a; } .misses { color: #b03030; }
iframe { width: 100%; border: 1px solid #ddd; margin: .3rem 0 1rem; }
details { margin: .4rem 0; } summary { cursor: pointer; }
code, pre { font-size: 12px; }
"""


def load(path: Path) -> dict[str, Any]:
    """A results file."""
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def rows_of(document: dict[str, Any]) -> dict[str, dict[str, Row]]:
    """The results file's runs as the bench's rows, per scenario and target."""
    return {
        scenario: {target: Row.from_dict(row) for target, row in rows.items()}
        for scenario, rows in document["results"].items()
    }


def inline(svg: str) -> str:
    """A standalone SVG document as an element of the page (without its XML prolog)."""
    return svg[svg.index("<svg") :]


def render(document: dict[str, Any], folder: Path) -> str:
    """The page of a results file; `folder` holds the flame graphs it names (beside the results file)."""
    results = rows_of(document)
    profiles = document.get("profiles") or {}
    title = f"Storefront bench {when(document['name'])}"
    links = " ".join(f'<a href="#{anchor(s)}">{html.escape(s)}</a>' for s in results)
    parts = [
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f'<meta name="viewport" content="width=device-width"><style>{STYLE}</style></head><body>',
        f"<h1>{html.escape(title)}</h1>",
        *facts(document),
        f"<nav>scenarios: {links}</nav>",
        "<h2>Storefront in every scenario</h2>",
        table_html(tables.SUMMARY_HEADER, tables.summary_lines(results)),
        *targets(document),
    ]
    for scenario, rows in results.items():
        parts += section(scenario, rows, document["results"][scenario], profiles.get(scenario, {}), folder)
    settings = html.escape(json.dumps(document.get("settings"), indent=2))
    parts.append(f"<h2>Settings</h2><details><summary>as in the results file</summary><pre>{settings}</pre></details>")
    return "\n".join([*parts, "</body></html>\n"])


def when(name: str) -> str:
    """A run's name (`20261123T072150Z-w2`) as its start and the rest: `2026-11-23 07:21 UTC, w2`."""
    found = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)\d\dZ-?(.*)", name)
    if found is None:
        return name
    year, month, day, hour, minute, rest = found.groups()
    return f"{year}-{month}-{day} {hour}:{minute} UTC" + (f" ({rest})" if rest else "")


def anchor(scenario: str) -> str:
    """The page's id of a scenario's section."""
    return f"scenario-{re.sub(r'[^a-z0-9-]', '-', scenario.lower())}"


def facts(document: dict[str, Any]) -> list[str]:
    """The lines under the title: the machine, the load and the run's settings."""
    machine, settings = document.get("machine", {}), document.get("settings", {})
    load = machine.get("load_average_at_start") or [None]
    commit = machine.get("git_commit")
    wrk = str(machine.get("wrk", "wrk")).partition(" Copyright")[0]
    lines = [
        f"{machine.get('cpu_count')} × {machine.get('cpu_model')}, {machine.get('memory_gib')} GiB, "
        f"load {load[0]} at start; Python {machine.get('python')}; {wrk}",
        f"{settings.get('workers')} worker(s), {settings.get('connections')} connections, "
        f"{settings.get('duration')} s per run after a {settings.get('warmup')} s warm-up, "
        f"{settings.get('rounds')} round(s) (the median shown)" + (", quick" if settings.get("quick") else ""),
    ]
    if commit:
        lines.append(f"commit {commit[:12]}" + (" with uncommitted changes" if machine.get("git_dirty") else ""))
    if document.get("note"):
        lines.append(document["note"])
    return [f'<p class="facts">{html.escape(line)}</p>' for line in lines]


def targets(document: dict[str, Any]) -> list[str]:
    """The issues' targets this run could judge, each marked as holding or not."""
    checks = document.get("targets") or []
    if not checks:
        return []
    items = "".join(
        f'<li class="{"holds" if check["holds"] else "misses"}">{"✓" if check["holds"] else "✗"} '
        f"{html.escape(check['check'])}</li>"
        for check in checks
    )
    return [f"<h2>The issues' targets</h2><p>information only: the exit status depends on failed requests</p>"
            f"<ul>{items}</ul>"]  # fmt: skip


def table_html(header: list[str], lines: list[list[str]]) -> str:
    """A table of text cells, scrolling sideways when it is wider than the page."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in line) + "</tr>" for line in lines)
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def section(
    scenario: str, rows: dict[str, Row], raw: dict[str, Any], profiles: dict[str, Any], folder: Path
) -> list[str]:
    """One scenario: its charts, its table and notes, and its profiles."""
    drawn = charts.scenario_charts(scenario, rows, profiles)
    notes = tables.scenario_notes(rows) + [summary_line(row["coherence"]) for row in raw.values() if "coherence" in row]
    parts = [
        f'<h2 id="{anchor(scenario)}">{html.escape(scenario)}</h2>',
        '<div class="charts">' + "".join(inline(chart) for chart in drawn.values()) + "</div>",
        table_html(tables.SCENARIO_HEADER, tables.scenario_lines(rows)),
    ]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{html.escape(note)}</li>" for note in notes) + "</ul>")
    if profiles:
        parts.append(f"<h3>{html.escape(scenario)}: profiles (py-spy, first round)</h3>")
        parts += [profile_html(target, profile, folder) for target, profile in profiles.items()]
    return parts


def profile_html(target: str, profile: dict[str, Any], folder: Path) -> str:
    """A profiled target, folded away but for Storefront: its hottest functions, then each worker's
    flame graph (py-spy's interactive SVG in a frame of its own: click to zoom, Ctrl-F to search)."""
    hottest = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{share:.1f} %</td></tr>"
        for name, share in profile.get("top_functions_percent", {}).items()
    )
    parts = [
        f"<details{' open' if target == STOREFRONT else ''}><summary><b>{html.escape(target)}</b>: "
        f"{profile.get('samples', 0):,} samples; the hottest functions (self time), each worker's flame graph"
        "</summary>",
        f"<table>{hottest}</table>",
    ]
    for name in profile.get("flamegraphs", []):
        path = folder / name
        if not path.exists():
            parts.append(f"<p>flame graph {html.escape(name)}: not found beside the results file</p>")
            continue
        svg = path.read_bytes()
        found = re.search(rb'<svg[^>]*\sheight="(\d+)', svg)
        height = int(found.group(1)) + 4 if found else 600
        data = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
        label = html.escape(name)
        parts.append(f'<p>{label}</p><iframe style="height:{height}px" src="{data}" title="{label}"></iframe>')
    return "".join([*parts, "</details>"])


def write_report(results_file: Path, output: Path | None = None) -> Path:
    """Render the page of `results_file` to `output` (default: beside it, `.html`); its path."""
    output = output or results_file.with_suffix(".html")
    output.write_text(render(load(results_file), results_file.parent))
    return output


def write_charts(document: dict[str, Any], directory: Path) -> list[Path]:
    """Every chart of the page as a standalone SVG file in `directory` (`SCENARIO-CHART.svg`); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    profiles = document.get("profiles") or {}
    written = []
    for scenario, rows in rows_of(document).items():
        for name, svg in charts.scenario_charts(scenario, rows, profiles.get(scenario, {})).items():
            path = directory / f"{scenario}-{name}.svg"
            path.write_text(svg)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    """`python -m bench report FILE [--svg DIR] [--output PAGE]` (`just bench-report`): the page of an
    existing results file, without running the bench; with `--svg`, its charts as SVG files too."""
    parser = argparse.ArgumentParser(prog="just bench-report", description=main.__doc__)
    parser.add_argument("results", type=Path, help="a results file, e.g. bench/results/reference-w2.json")
    parser.add_argument("--output", type=Path, help="the page to write (default: beside FILE, .html)")
    parser.add_argument("--svg", type=Path, metavar="DIR", help="also write every chart to DIR as SCENARIO-CHART.svg")
    args = parser.parse_args(argv)
    if not args.results.is_file():
        parser.error(f"no results file {args.results}")
    started = time.perf_counter()
    page = write_report(args.results, args.output)
    print(f"report: {page} ({time.perf_counter() - started:.1f} s)")
    if args.svg:
        written = write_charts(load(args.results), args.svg)
        print(f"charts: {len(written)} SVG files in {args.svg}")
    return 0
