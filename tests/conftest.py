"""The suite runs on real PostgreSQL and Valkey (see `tests/support/services.py`); its fixtures live
in `tests/support/fixtures.py`."""

pytest_plugins = ["tests.support.fixtures"]
