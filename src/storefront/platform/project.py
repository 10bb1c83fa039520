"""Where the project's files are, and its version: written once, in `pyproject.toml`."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SQL_DIR = PROJECT_ROOT / "sql"


@cache
def version() -> str:
    """The `[project] version` of `pyproject.toml`."""
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])
