"""Gauges that are sampled rather than counted on the hot path: the pool and the worker's memory."""

from __future__ import annotations

import psutil
from prometheus_client import Gauge

from storefront.platform.db import Database

GAUGE_INTERVAL = 2.0
POOL_SIZE = Gauge("storefront_db_pool_size", "Open connections in this worker's pool", multiprocess_mode="livesum")
POOL_IN_USE = Gauge("storefront_db_pool_in_use", "Connections checked out of the pool", multiprocess_mode="livesum")
# One series per worker (`pid`): a leak shows as one line climbing.
WORKER_RSS = Gauge("storefront_worker_rss_bytes", "Resident memory of this worker", multiprocess_mode="liveall")
_THIS_PROCESS = psutil.Process()


def sample_pool(db: Database) -> None:
    """Copy the pool's size and in-use count into the gauges."""
    size, in_use = db.stats()
    POOL_SIZE.set(size)
    POOL_IN_USE.set(in_use)


async def refresh_gauges(db: Database) -> int:
    """One sample of the pool and of the worker's resident memory (a job of the worker's schedule,
    every GAUGE_INTERVAL s); 0: nothing to log."""
    sample_pool(db)
    WORKER_RSS.set(_THIS_PROCESS.memory_info().rss)
    return 0
