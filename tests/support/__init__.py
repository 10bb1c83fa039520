"""Shared test support: services, fixtures and HTTP helpers (no test imports `tests.conftest`)."""
