"""The suite runs on real PostgreSQL and Valkey (see `tests/support/services.py`); its fixtures live
in `tests/support/fixtures.py`."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (the default): a process per core, each with its own embedded servers — but one
    process when TEST_DATABASE_URL / TEST_VALKEY_URL name shared ones, which tests empty at will."""
    if os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_VALKEY_URL"):
        return 0
    return None
