"""The end of a bench: the summary and the target checks printed, the JSON results file written, and
whether any request failed (the exit status)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import page, report, tables
from bench.goals import target_checks
from bench.options import settings
from bench.report import Row
from bench.rounds import Rounds


def any_failed(results: dict[str, dict[str, Row]]) -> bool:
    """True when a request of any run failed."""
    return any(row.result.errors for rows in results.values() for row in rows.values())


def shown(path: Path) -> str:
    """`path` as printed: relative to the working directory when it is inside it."""
    return str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


def save(rounds: Rounds, document: dict[str, Any]) -> Path:
    """Write `document` as the run's results file (bench/results/NAME.json) and its HTML report beside
    it (NAME.html); the results file's path."""
    path = rounds.workspace.results_file(".json")
    path.write_text(json.dumps(document, indent=2) + "\n")
    try:
        page.write_report(path)
    except Exception as exc:  # the measurements are saved already: a report that fails must not lose the run
        print(f"bench: the HTML report failed ({exc!r}); retry with `just bench-report {shown(path)}`", file=sys.stderr)
    return path


def announce(path: Path) -> None:
    """Print where the results file and its report are."""
    print(f"results: {shown(path)}")
    if path.with_suffix(".html").exists():
        print(f"report:  {shown(path.with_suffix('.html'))}")


def results_document(rounds: Rounds, seeded: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The results file: machine facts, settings, every run, and the target checks."""
    results = rounds.results
    return {
        "name": rounds.workspace.name,
        "machine": facts,
        "settings": settings(rounds.options),
        "seeded": seeded,
        "results": {
            scenario: {target: row.as_dict() for target, row in rows.items()} for scenario, rows in results.items()
        },
        "shares": {scenario: report.ceiling_shares(rows) for scenario, rows in results.items()},
        "times_guides": {scenario: report.guides_factor(rows) for scenario, rows in results.items()},
        "times_read_cache_off": {scenario: report.cache_factor(rows) for scenario, rows in results.items()},
        "profiles": {
            scenario: {target: profile.as_dict() for target, profile in profiles.items()}
            for scenario, profiles in rounds.profiles.items()
        },
        "targets": [{"check": text, "holds": holds} for text, holds in target_checks(results)],
    }


def print_and_save(rounds: Rounds, seeded: dict[str, Any], facts: dict[str, Any]) -> bool:
    """Print the summary and the target checks, write the results file; True when a request failed."""
    path = save(rounds, results_document(rounds, seeded, facts))
    print(tables.summary_table(rounds.results) + "\n")
    print("the issues' targets (information only: the exit status depends on failed requests alone):")
    for text, holds in target_checks(rounds.results):
        print(f"  {'✓' if holds else '✗'} {text}")
    print()
    announce(path)
    failed = any_failed(rounds.results)
    if failed:
        print("bench: some requests failed; the servers' logs are kept in bench/results/", file=sys.stderr)
    return failed
