"""`storefront cluster N`: the scale-out topology (docs/design.md#scale-out-topology) on one machine,
from well-known parts.

    nginx on HOST:PORT ──▶ N × `storefront serve` (own launcher, WORKERS each, 127.0.0.1:free port)
                              ├─ DATABASE_URL → PgBouncer (transaction mode) → PostgreSQL
                              ├─ MIGRATIONS_DATABASE_URL → PostgreSQL directly
                              └─ VALKEY_URL → one Valkey

PostgreSQL and Valkey are the embedded ones in DATA_DIR (or DATABASE_URL / VALKEY_URL when set);
PgBouncer and nginx are Debian's. PgBouncer checks a password by SCRAM-SHA-256 and the embedded
Valkey requires one (`requirepass`): both are generated at each start into DATA_DIR (mode 0600) and
reach the instances in their URLs. Every process is a child in its own session, told SIGTERM if the
launcher dies; Ctrl-C / SIGTERM stops nginx, then drains the instances, then stops the rest.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from storefront.launch.backing import Backends, backing_services
from storefront.launch.children import Child, ChildError, answers_health, free_port, require
from storefront.launch.nginx import UPSTREAM_SOURCE, Nginx
from storefront.launch.pgbouncer import INSTALL_HINT, PgBouncer
from storefront.platform.addresses import LOOPBACK
from storefront.platform.files import write_private
from storefront.platform.settings import Settings, environment

log = logging.getLogger("storefront.cluster")
CLUSTER_FILE = "cluster.json"
READY_TIMEOUT = 90.0


@dataclass
class Instance:
    """One Storefront instance: its number, port and launcher process."""

    number: int
    port: int
    child: Child

    @property
    def url(self) -> str:
        """Where it listens (behind nginx)."""
        return f"http://127.0.0.1:{self.port}"


def instance_env(settings: Settings, number: int, port: int, backends: Backends, pooled_url: str) -> dict[str, str]:
    """An instance's environment: the launcher's own (limits, first admin, WORKERS… as `serve` takes
    them) with its address, its own DATA_DIR, the shared servers and the cluster's secret."""
    decided = {
        "host": LOOPBACK,
        "port": port,
        "data_dir": (settings.data_dir / "instances" / str(number)).resolve(),
        "database_url": pooled_url,
        "db_pgbouncer": "transaction",
        "migrations_database_url": backends.database_url,
        "valkey_url": backends.valkey_url,
        "auth.secret_key": settings.auth.secret_key,
        "limits.trusted_proxies": UPSTREAM_SOURCE,
        # Links in mail point at nginx, not at the instance; one sink (or relay) for the cluster.
        "mail.public_base_url": settings.mail.public_base_url or "",
        "mail.smtp_url": backends.smtp_url,
    }
    return {**os.environ, **environment(decided), "PYTHONUNBUFFERED": "1"}


def start_instance(settings: Settings, number: int, backends: Backends, pooled_url: str) -> Instance:
    """Start one `python -m storefront serve` (its JSON log lines on the cluster's stdout)."""
    port = free_port()
    argv = [sys.executable, "-m", "storefront", "serve"]
    child = Child(f"instance {number}", argv, env=instance_env(settings, number, port, backends, pooled_url))
    child.start()
    return Instance(number, port, child)


def wait_healthy(instance: Instance, stop: threading.Event, timeout: float = READY_TIMEOUT) -> None:
    """Wait until the instance's `/health` answers 200; ChildError if it exits or takes too long,
    KeyboardInterrupt if the cluster is told to stop meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop.is_set():
            raise KeyboardInterrupt
        if not instance.child.alive():
            raise ChildError(f"instance {instance.number} exited at start (its log is above)")
        if answers_health(instance.url, timeout=2):
            return
        time.sleep(0.2)
    raise ChildError(f"instance {instance.number} was not healthy within {timeout:.0f} s")


def describe(
    settings: Settings, backends: Backends, pgbouncer: PgBouncer, pooled_url: str, fleet: list[Instance]
) -> dict[str, object]:
    """What runs where (written to DATA_DIR/cluster.json, mode 0600: it holds URLs)."""
    return {
        "url": f"http://{settings.host}:{settings.port}",
        "launcher_pid": os.getpid(),
        "pgbouncer_port": pgbouncer.port,
        "database_url": pooled_url,
        "migrations_database_url": backends.database_url,
        "valkey_url": backends.valkey_url,
        "instances": [{"number": i.number, "port": i.port, "pid": i.child.pid} for i in fleet],
    }


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT / SIGTERM (the first one: the stop itself then ignores more)."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("stopping the cluster", extra={"signal": signal.Signals(signum).name})
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)


def _stop_fleet(fleet: list[Instance]) -> None:
    """Drain every instance at once (each its own SIGTERM, once), then wait for them all."""
    for instance in fleet:
        instance.child.terminate()
    for instance in fleet:
        instance.child.stop(timeout=30)


def _watch(stop: threading.Event, nginx: Nginx, pgbouncer: PgBouncer, fleet: list[Instance]) -> int:
    """Until stopped: 1 as soon as nginx or PgBouncer dies; a dead instance is only reported
    (nginx routes around it)."""
    reported: set[int] = set()
    while not stop.wait(0.5):
        for name, child in (("nginx", nginx.child), ("pgbouncer", pgbouncer.child)):
            if child is None or not child.alive():
                log.error("a cluster server died; stopping the cluster", extra={"server": name})
                return 1
        for instance in fleet:
            if instance.number not in reported and not instance.child.alive():
                reported.add(instance.number)
                log.warning("an instance stopped; nginx routes around it", extra={"instance": instance.number})
    return 0


def run_cluster(settings: Settings, instances: int) -> int:
    """Start the whole topology, serve until SIGINT / SIGTERM, then stop every part of it."""
    require("pgbouncer", INSTALL_HINT)
    require("nginx", INSTALL_HINT)
    data_dir = settings.data_dir
    fleet: list[Instance] = []
    with ExitStack() as stack, _stop_on_signals() as stop:
        backends = stack.enter_context(backing_services(settings, valkey_password=secrets.token_urlsafe(32)))
        stack.callback(lambda: (data_dir / CLUSTER_FILE).unlink(missing_ok=True))
        pgbouncer = PgBouncer(data_dir / "pgbouncer", backends.database_url, free_port())
        stack.callback(pgbouncer.stop)
        pooled_url = pgbouncer.start()
        stack.callback(_stop_fleet, fleet)
        # All at once, as a fleet rolls out: the migrations' advisory lock lets one apply them.
        fleet += [start_instance(settings, number, backends, pooled_url) for number in range(1, instances + 1)]
        for instance in fleet:
            wait_healthy(instance, stop)
        upstreams = [f"{LOOPBACK}:{instance.port}" for instance in fleet]
        nginx = Nginx(
            data_dir / "nginx", settings.host, settings.port, upstreams, settings.server.header_timeout_seconds
        )
        stack.callback(nginx.stop)
        nginx.start()
        write_private(
            data_dir / CLUSTER_FILE, json.dumps(describe(settings, backends, pgbouncer, pooled_url, fleet), indent=2)
        )
        log.info(
            "cluster serving",
            extra={
                "url": f"http://{settings.host}:{settings.port}",
                "instances": instances,
                "workers": settings.workers,
            },
        )
        return _watch(stop, nginx, pgbouncer, fleet)
