"""The drain flag: `serve` raises it on its first SIGINT / SIGTERM, and every worker's readiness
then answers 503 `draining` so a load balancer takes the instance out before Granian stops."""

from __future__ import annotations

import contextlib
from pathlib import Path

DRAIN_FILE = "draining"


def mark_draining(data_dir: Path, draining: bool) -> None:
    """Tell every worker that this instance is stopping (readiness answers 503 `draining`)."""
    path = data_dir / DRAIN_FILE
    if draining:
        path.touch()
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def is_draining(data_dir: Path) -> bool:
    """True once `serve` has been asked to stop."""
    return (data_dir / DRAIN_FILE).exists()
