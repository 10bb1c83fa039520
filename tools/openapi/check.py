"""`just openapi-check [BASE]`: openapi.json against its version in BASE; every breaking change must be
acknowledged in CHANGELOG.md (see `changelog.py` for the rule).

BASE defaults to the contract's last change: HEAD while openapi.json differs from HEAD (work not
committed yet), else the parent of the last commit that changed openapi.json. So a fresh clone (CI)
checks the latest change to the contract however many commits came after it, and a developer checks
their work before committing. `just openapi-check main` checks a branch's whole change.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.openapi import CHANGELOG, DOCUMENT, REFRESH, ROOT
from tools.openapi.breaking import breaking_changes
from tools.openapi.changelog import acknowledged
from tools.openapi.schemas import Change

NAME = DOCUMENT.name


def git(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run git in `root`; the completed process (never raises on a git failure)."""
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)


def default_base(root: Path = ROOT) -> str | None:
    """The revision the contract's last change started from; None when it has none (never committed,
    or first committed in the root commit, or the history is too shallow to hold its parent)."""
    if git("diff", "--quiet", "HEAD", "--", NAME, root=root).returncode == 1:
        return "HEAD"
    last = git("log", "-1", "--format=%h", "--", NAME, root=root).stdout.strip()
    if not last or git("rev-parse", "--verify", "--quiet", f"{last}^", root=root).returncode != 0:
        return None
    return f"{last}^"


def committed(base: str, root: Path = ROOT) -> dict[str, Any] | None:
    """openapi.json as of `base`; None when `base` has no such file."""
    shown = git("show", f"{base}:{NAME}", root=root)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def describe(base: str, root: Path = ROOT) -> str:
    """`base` and the commit it names, for the report."""
    commit = git("log", "-1", "--format=%h %s", base, root=root).stdout.strip()
    return f"{base} ({commit[:72]})" if commit else base


def report(changes: list[Change], keys: set[str], since: str) -> int:
    """Print the breaking changes and whether each is acknowledged; the exit status."""
    missing = [change for change in changes if change.key not in keys]
    print(f"openapi-check: {len(changes)} breaking change(s) since {since}, {len(missing)} not acknowledged")
    for change in changes:
        mark = "MISSING" if change in missing else "ok"
        print(f"  {mark:7} {change.key}" + (f"  ({change.detail})" if change.detail else ""))
    if missing:
        print(f"\nEach breaking change needs a line under a `### Breaking` subsection of {CHANGELOG.name}'s")
        print("`## [Unreleased]` section naming it in backticks, then what clients should do, e.g.:\n")
        print("### Breaking")
        for change in missing:
            print(f"- `{change.key}` — why, and what clients do instead")
        print("\n(Or restore what was removed: an addition is never breaking.)")
    return 1 if missing else 0


def check(base: str | None, root: Path = ROOT) -> int:
    """Compare openapi.json in `root` with its version in `base` (default: see the module); the exit status."""
    document = root / NAME
    if not document.is_file():
        print(f"openapi-check: {NAME} is missing: write it with `{REFRESH}`")
        return 1
    if base and git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", root=root).returncode != 0:
        print(f"openapi-check: {base} names no commit here")
        return 2
    base = base or default_base(root)
    old = committed(base, root) if base else None
    if base is None or old is None:
        print(
            f"openapi-check: {f'{base} has no {NAME}' if base else f'{NAME} has no earlier version'}: nothing to compare"
        )
        return 0
    new = json.loads(document.read_text(encoding="utf-8"))
    changelog = root / CHANGELOG.name
    keys = acknowledged(changelog.read_text(encoding="utf-8")) if changelog.is_file() else set()
    return report(breaking_changes(old, new), keys, describe(base, root))


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m tools.openapi.check [BASE]`."""
    parser = argparse.ArgumentParser(prog="just openapi-check", description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?", help="a git revision (default: where the contract's last change started)")
    return check(parser.parse_args(argv).base)


if __name__ == "__main__":
    sys.exit(main())
