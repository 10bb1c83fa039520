"""`storefront serve`: embedded servers, migrations, first admin, then Granian; a clean stop on signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from storefront.launch.backing import Backends, backing_services
from storefront.launch.children import die_with_parent
from storefront.launch.datadir import is_serving, saved_urls
from storefront.launch.embedded import EmbeddedPostgres
from storefront.platform.drain import mark_draining
from storefront.platform.migrations import apply_migrations
from storefront.platform.settings import Settings, environment

log = logging.getLogger("storefront.launcher")
METRICS_DIR = "metrics"
# Workers still busy this long after the drain are killed: well inside a container runtime's
# default 10 s stop grace, so PostgreSQL and Valkey always get their clean shutdown after it.
KILL_TIMEOUT_SECONDS = 5
# The largest request head (request line and headers) a connection may send; beyond it, 431.
HEADER_BUFFER_BYTES = 65_536
FILE_HEADROOM = 256  # files a worker needs besides client connections: pool, Valkey, logs, modules
MAX_OPEN_FILES = 1_048_576


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """A direct DSN: the configured one (MIGRATIONS_DATABASE_URL, else DATABASE_URL); else the running
    `serve`'s embedded one; else an embedded server for this run."""
    if settings.direct_database_url:
        yield settings.direct_database_url
        return
    if is_serving(settings.data_dir) and (url := saved_urls(settings.data_dir).get("database_url")):
        yield url
        return
    postgres = EmbeddedPostgres(settings.data_dir)
    try:
        yield postgres.start()
    finally:
        postgres.stop()


def open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit (children inherit it); the
    limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connections_per_worker(settings: Settings) -> int:
    """MAX_CONNECTIONS, lowered (with a warning) to what a worker can open: past its file limit
    Granian's accept loop spins on EMFILE instead of leaving new connections in the backlog."""
    usable = open_files_limit() - FILE_HEADROOM
    if settings.server.max_connections <= usable:
        return settings.server.max_connections
    log.warning(
        "MAX_CONNECTIONS is above what the open-files limit allows; using the lower figure",
        extra={"max_connections": settings.server.max_connections, "used": usable},
    )
    return max(usable, 16)


def granian_command(settings: Settings) -> list[str]:
    """Granian as `serve` runs it: HTTP/1 only (its auto-detection never times out a silent
    socket), every connection limit explicit (docs/design.md#resilience-contract)."""
    server = settings.server
    return [
        sys.executable, "-m", "granian",
        "--interface", "asgi",
        "--factory", "storefront.app:create_app",
        "--host", settings.host,
        "--port", str(settings.port),
        "--workers", str(settings.workers),
        "--loop", "uvloop",
        "--no-ws",
        "--http", "1",
        "--backlog", str(server.backlog),
        "--backpressure", str(connections_per_worker(settings)),
        "--http1-keep-alive",
        "--http1-header-read-timeout", str(server.header_timeout_seconds * 1000),
        "--http1-buffer-size", str(HEADER_BUFFER_BYTES),
        "--log-level", "warning",
        "--respawn-failed-workers",
        "--workers-kill-timeout", str(KILL_TIMEOUT_SECONDS),
    ]  # fmt: skip


def _metrics_dir(settings: Settings) -> Path:
    path = (settings.data_dir / METRICS_DIR).resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _run_granian(settings: Settings, env: dict[str, str]) -> int:
    """Run Granian until it exits. The first SIGINT / SIGTERM starts the drain: readiness turns
    `draining` at once, Granian gets SIGTERM after DRAIN_SECONDS (still serving meanwhile, so a load
    balancer can take the instance out first) and finishes in-flight requests; a second signal stops
    Granian at once."""
    process = subprocess.Popen(granian_command(settings), env=env, start_new_session=True, preexec_fn=die_with_parent)
    stopping: list[threading.Timer] = []

    def terminate() -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)

    def forward(signum: int, _frame: object) -> None:
        if stopping:
            stopping[0].cancel()
            terminate()
            return
        log.info("stopping: draining", extra={"signal": signal.Signals(signum).name})
        mark_draining(settings.data_dir, True)
        stopping.append(threading.Timer(settings.server.drain_seconds, terminate))
        stopping[0].start()

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return process.wait()


def _worker_environment(settings: Settings, backends: Backends) -> dict[str, str]:
    """Granian's environment: this process's, with the settings the bring-up decided."""
    decided = {
        "database_url": backends.database_url,
        "valkey_url": backends.valkey_url,
        "auth.secret_key": settings.auth.secret_key,
        "data_dir": settings.data_dir.resolve(),
        "mail.smtp_url": backends.smtp_url,
    }
    return {**os.environ, **environment(decided), "PROMETHEUS_MULTIPROC_DIR": str(_metrics_dir(settings))}


def _ignore_signals() -> None:
    """From here on the stop itself runs: a second Ctrl-C must not cut it short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def serve(settings: Settings, prepare: Callable[[str], None]) -> int:
    """Run the service until SIGINT / SIGTERM; stop the backing services after Granian has drained.

    `prepare(database_url)` runs once the database is migrated, before Granian starts (the CLI hands
    in the first-admin bootstrap: the launcher knows no domain). Both use the direct connection
    (MIGRATIONS_DATABASE_URL when the workers' DATABASE_URL is a transaction pooler).
    """
    with ExitStack() as stack:
        stack.callback(log.info, "stopped")
        backends = stack.enter_context(backing_services(settings))
        stack.callback(mark_draining, settings.data_dir, False)
        stack.callback(_ignore_signals)
        mark_draining(settings.data_dir, False)
        applied = asyncio.run(apply_migrations(backends.direct_url))
        log.info("migrations applied", extra={"applied": applied})
        prepare(backends.direct_url)
        env = _worker_environment(settings, backends)
        if not settings.metrics_enabled:
            log.warning("METRICS_TOKEN is unset: /metrics is off (in production it needs a token)")
        log.info("serving", extra={"url": f"http://{settings.host}:{settings.port}", "workers": settings.workers})
        status = _run_granian(settings, env)
    return status
