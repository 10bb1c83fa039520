"""The bench's HTML report (bench.page, bench.charts), rendered from the committed reference runs and
from a run with every figure (CPU ladders, a profile, a worker's flame graph): it renders, it is
self-contained, it shows every scenario and target; and the docs' charts are the reference runs'."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from bench.report import ASGI_SAME_WORK, BARE, BARE_NO_DB, CACHE_OFF, FLOOR, GUIDES, SAME_WORK, STOREFRONT

from bench import page

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = sorted((ROOT / "bench" / "results").glob("reference-*.json"))
DOCS = ROOT / "docs" / "assets" / "bench"
# Workers' and whole-system CPU µs per request of item-get (README, "Reads from memory").
CPU = {
    STOREFRONT: (57.0, 60.0),
    CACHE_OFF: (209.0, 244.0),
    FLOOR: (150.0, 203.0),
    BARE_NO_DB: (19.0, 19.0),
    BARE: (70.0, 96.0),
    SAME_WORK: (100.0, 128.0),
    ASGI_SAME_WORK: (115.0, 147.0),
    GUIDES: (900.0, 1100.0),
}
FLAME = '<?xml version="1.0"?><svg version="1.1" width="1200" height="150" xmlns="http://www.w3.org/2000/svg"></svg>'


def linked_urls(text: str) -> list[str]:
    """Every src= and href= of the page that leaves it (a network address)."""
    return [url for url in re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", text) if "//" in url]


def full_run(folder: Path) -> dict[str, Any]:
    """The 2-worker reference run, its item-get with every reference, CPU figures and a profile whose
    worker's flame graph is in `folder`."""
    document = json.loads((ROOT / "bench" / "results" / "reference-w2.json").read_text())
    rows = document["results"]["item-get"]
    template = rows[STOREFRONT]
    for target, (workers, system) in CPU.items():
        rows[target] = copy.deepcopy(template) | {"target": target, "rps": 1e6 / workers / 10}
        rows[target] |= {"cpu_us_per_request": workers, "system_cpu_us_per_request": system}
    (folder / "run-item-get-storefront-worker1.svg").write_text(FLAME)
    profile = {"samples": 500, "layers_percent": {"storefront": 60.0, "litestar": 30.0, "asyncpg": 10.0}}
    profile |= {"top_functions_percent": {"storefront: handle (context.py)": 20.0}}
    profile |= {"flamegraphs": ["run-item-get-storefront-worker1.svg", "run-item-get-storefront-worker2.svg"]}
    document["profiles"] = {"item-get": {STOREFRONT: profile}}
    return document


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda path: path.stem)
def test_the_page_of_a_reference_run_shows_every_scenario_and_target(reference: Path, tmp_path: Path) -> None:
    output = page.write_report(reference, tmp_path / "report.html")
    text = output.read_text()
    document = page.load(reference)
    assert text.startswith("<!doctype html>")
    assert text.rstrip().endswith("</html>")
    for scenario, rows in document["results"].items():
        assert f'id="{page.anchor(scenario)}"' in text
        assert f"{scenario}: throughput" in text
        assert f"{scenario}: latency percentiles" in text
        for target in rows:
            assert f"<td>{target}</td>" in text
    assert text.count("<svg") == 2 * len(document["results"])  # no CPU figures in these runs: no ladder


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda path: path.stem)
def test_the_page_is_self_contained(reference: Path, tmp_path: Path) -> None:
    text = page.render(page.load(reference), tmp_path)
    assert linked_urls(text) == []
    assert "<script" not in text
    assert "<link" not in text


def test_a_full_run_shows_its_ladders_its_profile_and_each_workers_flame_graph(tmp_path: Path) -> None:
    text = page.render(full_run(tmp_path), tmp_path)
    assert "item-get: CPU per request, layer by layer" in text
    assert "+ Storefront's own code" in text
    assert "saved against the rung below" in text  # the cached Storefront is cheaper than the floor
    assert "item-get: where the time goes (py-spy)" in text
    assert "CPU µs/req: ceiling-bare-no-db 19 → ceiling-bare 70 (database +51)" in text
    assert text.count('<iframe style="height:154px" src="data:image/svg+xml;base64,') == 1
    assert "run-item-get-storefront-worker2.svg: not found beside the results file" in text
    assert linked_urls(text) == []
    for target in CPU:
        assert f"<td>{target}</td>" in text


def test_the_charts_are_written_as_standalone_svg_files(tmp_path: Path) -> None:
    written = page.write_charts(full_run(tmp_path), tmp_path / "charts")
    names = {path.name for path in written}
    assert {"item-get-rps.svg", "item-get-latency.svg", "item-get-cpu.svg", "item-get-profile.svg"} <= names
    assert "item-list-cpu.svg" not in names
    for path in written:
        assert path.read_text().startswith("<?xml")


def test_report_renders_an_existing_results_file_from_the_command_line(tmp_path: Path) -> None:
    from bench.cli import main

    results = tmp_path / "run.json"
    results.write_text(json.dumps(full_run(tmp_path)))
    assert main(["report", str(results), "--svg", str(tmp_path / "svg")]) == 0
    assert "item-get: throughput" in (tmp_path / "run.html").read_text()
    assert (tmp_path / "svg" / "item-get-cpu.svg").exists()


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda path: path.stem)
def test_the_docs_charts_are_the_reference_runs(reference: Path, tmp_path: Path) -> None:
    """docs/assets/bench/NAME/ holds the charts of bench/results/NAME.json, as the renderer draws them today."""
    fresh = {path.name: path.read_text() for path in page.write_charts(page.load(reference), tmp_path)}
    committed = DOCS / reference.stem
    kept = {path.name: path.read_text() for path in committed.glob("*.svg")}
    again = f"regenerate: rm -r docs/assets/bench/{reference.stem}; just bench-report {reference.relative_to(ROOT)} --svg docs/assets/bench/{reference.stem}"
    assert sorted(kept) == sorted(fresh), again
    assert [name for name in fresh if kept[name] != fresh[name]] == [], again
