"""`storefront serve`: embedded servers, migrations, first admin, then Granian; a clean stop on signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from storefront.platform.embedded import (
    EmbeddedPostgres,
    EmbeddedValkey,
    forget_urls,
    is_serving,
    save_urls,
    saved_urls,
    take_lock,
)
from storefront.platform.migrations import apply_migrations
from storefront.platform.settings import Settings

log = logging.getLogger("storefront.launcher")
METRICS_DIR = "metrics"


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured DSN; else the running `serve`'s embedded one; else an embedded server for this run."""
    if settings.database_url:
        yield settings.database_url
        return
    if is_serving(settings.data_dir) and (url := saved_urls(settings.data_dir).get("database_url")):
        yield url
        return
    postgres = EmbeddedPostgres(settings.data_dir)
    try:
        yield postgres.start()
    finally:
        postgres.stop()


def _granian_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "granian",
        "--interface", "asgi",
        "--factory", "storefront.app:create_app",
        "--host", settings.host,
        "--port", str(settings.port),
        "--workers", str(settings.workers),
        "--loop", "uvloop",
        "--no-ws",
        "--log-level", "warning",
        "--respawn-failed-workers",
        "--workers-kill-timeout", "30",
    ]  # fmt: skip


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies, so Granian never outlives it."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _metrics_dir(settings: Settings) -> Path:
    path = (settings.data_dir / METRICS_DIR).resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _run_granian(settings: Settings, env: dict[str, str]) -> int:
    process = subprocess.Popen(_granian_command(settings), env=env, start_new_session=True, preexec_fn=_die_with_parent)

    def forward(signum: int, _frame: object) -> None:
        log.info("stopping: draining in-flight requests", extra={"signal": signal.Signals(signum).name})
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return process.wait()


def serve(settings: Settings, prepare: Callable[[str], None]) -> int:
    """Run the service until SIGINT / SIGTERM; stop the embedded servers after Granian has drained.

    `prepare(database_url)` runs once the database is migrated, before Granian starts (the CLI hands
    in the first-admin bootstrap: the platform knows no domain).
    """
    lock = take_lock(settings.data_dir)
    postgres, valkey = EmbeddedPostgres(settings.data_dir), EmbeddedValkey(settings.data_dir)
    try:
        db_url = settings.database_url or postgres.start()
        valkey_url = settings.valkey_url or valkey.start()
        save_urls(settings.data_dir, {"database_url": db_url, "valkey_url": valkey_url})
        applied = asyncio.run(apply_migrations(db_url))
        log.info("migrations applied", extra={"applied": applied})
        prepare(db_url)
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "VALKEY_URL": valkey_url,
            "SECRET_KEY": settings.auth.secret_key,
            "DATA_DIR": str(settings.data_dir.resolve()),
            "PROMETHEUS_MULTIPROC_DIR": str(_metrics_dir(settings)),
        }
        log.info("serving", extra={"url": f"http://{settings.host}:{settings.port}", "workers": settings.workers})
        return _run_granian(settings, env)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        forget_urls(settings.data_dir)
        valkey.stop()
        postgres.stop()
        lock.close()
        log.info("stopped")
