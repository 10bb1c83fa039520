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
from contextlib import contextmanager
from pathlib import Path

from storefront.launch.children import die_with_parent
from storefront.launch.datadir import forget_urls, is_serving, save_urls, saved_urls, take_lock
from storefront.launch.embedded import EmbeddedPostgres, EmbeddedValkey
from storefront.launch.mailsink import MAIL_DIR, MailSink
from storefront.platform.drain import mark_draining
from storefront.platform.migrations import apply_migrations
from storefront.platform.settings import Settings

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


def smtp_url(settings: Settings, sink: MailSink) -> str | None:
    """SMTP_URL; without it (never in production), the local sink's: mail lands in DATA_DIR/mail/."""
    mail = settings.mail
    if mail.smtp_url or mail.mail_disabled:
        return mail.smtp_url
    url = sink.start()
    log.info("SMTP_URL is unset: mail goes to a local sink (`just mail` lists it)", extra={"dir": str(sink.directory)})
    return url


def serve(settings: Settings, prepare: Callable[[str], None]) -> int:
    """Run the service until SIGINT / SIGTERM; stop the embedded servers after Granian has drained.

    `prepare(database_url)` runs once the database is migrated, before Granian starts (the CLI hands
    in the first-admin bootstrap: the platform knows no domain). Both use the direct connection
    (MIGRATIONS_DATABASE_URL when the workers' DATABASE_URL is a transaction pooler).
    """
    lock = take_lock(settings.data_dir)
    mark_draining(settings.data_dir, False)
    postgres, valkey = EmbeddedPostgres(settings.data_dir), EmbeddedValkey(settings.data_dir)
    sink = MailSink(settings.data_dir / MAIL_DIR)
    try:
        db_url = settings.database_url or postgres.start(watch=True)
        valkey_url = settings.valkey_url or valkey.start()
        relay_url = smtp_url(settings, sink)
        save_urls(settings.data_dir, {"database_url": db_url, "valkey_url": valkey_url})
        direct_url = settings.migrations_database_url or db_url
        applied = asyncio.run(apply_migrations(direct_url))
        log.info("migrations applied", extra={"applied": applied})
        prepare(direct_url)
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "VALKEY_URL": valkey_url,
            "SECRET_KEY": settings.auth.secret_key,
            "DATA_DIR": str(settings.data_dir.resolve()),
            "PROMETHEUS_MULTIPROC_DIR": str(_metrics_dir(settings)),
            **({"SMTP_URL": relay_url} if relay_url else {}),
        }
        if not settings.metrics_enabled:
            log.warning("METRICS_TOKEN is unset: /metrics is off (in production it needs a token)")
        log.info("serving", extra={"url": f"http://{settings.host}:{settings.port}", "workers": settings.workers})
        return _run_granian(settings, env)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        forget_urls(settings.data_dir)
        sink.stop()
        valkey.stop()
        postgres.stop()
        mark_draining(settings.data_dir, False)
        lock.close()
        log.info("stopped")
