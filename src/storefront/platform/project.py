"""Where the project's files are, and its version: written once, in `pyproject.toml`.

Two layouts: an installed wheel carries `sql/` inside the package (`storefront/sql`) and its version
in the distribution's metadata; a checkout (and the container image, which copies `src/`, `sql/` and
`pyproject.toml` side by side) has `sql/` and `pyproject.toml` at the root above `src/`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parents[1]
# The wheel's copy of sql/ (pyproject.toml's hatch force-include) marks an installed package.
BUNDLED_SQL = PACKAGE_DIR / "sql"
INSTALLED = BUNDLED_SQL.is_dir()
SQL_DIR = BUNDLED_SQL if INSTALLED else PROJECT_ROOT / "sql"


@cache
def version() -> str:
    """The `[project] version` of `pyproject.toml`, as installed or from the checkout."""
    if INSTALLED:
        return metadata.version("storefront")
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])
