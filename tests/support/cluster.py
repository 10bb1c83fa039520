"""`python -m storefront cluster N` as an operator runs it, for the multi-instance tests: its own
DATA_DIR (a fresh, empty database), its output in a log file, what runs where from cluster.json."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from storefront.launch.children import die_with_parent
from storefront.launch.cluster import CLUSTER_FILE
from tests.support.services import SRC, TEST_SECRET, free_port

START_TIMEOUT = 120.0


def require_packages() -> None:
    """Skip (with the install command) where Debian's pgbouncer or nginx is missing; CI installs both."""
    missing = [name for name in ("pgbouncer", "nginx") if not (shutil.which(name) or Path("/usr/sbin", name).exists())]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: apt-get install pgbouncer nginx")


class Cluster:
    """A running cluster: nginx at `base`, instances at `instance(n)`, the direct DSN, the log."""

    def __init__(self, instances: int, **env: str) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="sfc-"))  # short: PostgreSQL's socket lives inside
        self.port = free_port()
        self.log = self.data_dir / "cluster.log"
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": SRC,
            "ENVIRONMENT": "test",
            "DATA_DIR": str(self.data_dir),
            "PORT": str(self.port),
            "SECRET_KEY": TEST_SECRET,
            "LOG_LEVEL": "INFO",
            **env,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "storefront", "cluster", str(instances)],
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self.info: dict[str, Any] = {}

    @property
    def base(self) -> str:
        """nginx."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def dsn(self) -> str:
        """The direct connection to the cluster's PostgreSQL."""
        return str(self.info["migrations_database_url"])

    def instance(self, number: int) -> str:
        """The base URL of instance `number` (1-based), bypassing nginx."""
        return f"http://127.0.0.1:{self.info['instances'][number - 1]['port']}"

    def instance_pid(self, number: int) -> int:
        """The pid of instance `number`'s launcher (`storefront serve`)."""
        return int(self.info["instances"][number - 1]["pid"])

    def wait_ready(self) -> None:
        """Until cluster.json is written and nginx answers `/health/ready` with 200."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the cluster exited:\n{self.tail()}"
            with contextlib.suppress(OSError, ValueError, httpx.HTTPError):
                self.info = json.loads((self.data_dir / CLUSTER_FILE).read_text())
                if httpx.get(f"{self.base}/health/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the cluster was not ready within {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def lines(self) -> list[dict[str, Any]]:
        """The JSON lines of the cluster's output (every instance's log included)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return [line for line in found if isinstance(line, dict)]

    def tail(self, lines: int = 40) -> str:
        """The end of the output."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def descendants(self) -> list[psutil.Process]:
        """Every process the cluster launcher started, and theirs."""
        with contextlib.suppress(psutil.Error):
            return list(psutil.Process(self.process.pid).children(recursive=True))
        return []

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Ctrl-C (or `signum`) the launcher and wait for it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def remove(self) -> None:
        """Delete its DATA_DIR."""
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(instances: int, **env: str) -> Iterator[Cluster]:
    """A started, ready cluster of `instances`, stopped and removed after the block."""
    require_packages()
    cluster = Cluster(instances, **env)
    try:
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()
        cluster.remove()


def from_address(cluster: Cluster, address: str, **kwargs: Any) -> httpx.AsyncClient:
    """A client of nginx whose connections come from `address` (any 127.x.y.z is this machine)."""
    transport = httpx.AsyncHTTPTransport(local_address=address, limits=httpx.Limits(max_connections=200))
    return httpx.AsyncClient(base_url=cluster.base, transport=transport, timeout=30, **kwargs)
