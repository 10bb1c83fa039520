"""Gauges that are sampled rather than counted on the hot path."""

from __future__ import annotations

from prometheus_client import Gauge

from storefront.platform.db import Database

POOL_INTERVAL = 2.0
POOL_SIZE = Gauge("storefront_db_pool_size", "Open connections in this worker's pool", multiprocess_mode="livesum")
POOL_IN_USE = Gauge("storefront_db_pool_in_use", "Connections checked out of the pool", multiprocess_mode="livesum")


def sample_pool(db: Database) -> None:
    """Copy the pool's size and in-use count into the gauges."""
    size, in_use = db.stats()
    POOL_SIZE.set(size)
    POOL_IN_USE.set(in_use)


async def refresh_pool_gauges(db: Database) -> int:
    """One sample of the pool (a job of the worker's schedule, every POOL_INTERVAL s); 0: nothing to log."""
    sample_pool(db)
    return 0
