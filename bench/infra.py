"""The HTTP servers under test: each started in its own session with a clean environment and stopped —
with every descendant — whatever happens; their workers' CPU time and memory; how Granian and uvicorn
are launched."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from storefront.launch.children import answers_health
from storefront.platform.settings import variable_names

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
SETTLE_STEP = 0.25  # seconds between CPU samples
SETTLE_QUIET = 0.75  # idle this long counts as settled
IDLE_CPU = 0.05  # CPU seconds per second (5 % of a core) below which a worker is idle
# Variables of the service that must not leak from the developer's shell into a bench run.
SERVICE_VARIABLES = frozenset([*variable_names(), "PROMETHEUS_MULTIPROC_DIR"])


class StartFailed(RuntimeError):
    """A server did not become ready; the message carries the end of its log."""


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without the service's own variables (OpenTelemetry's standard ones
    included), plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES and not k.startswith("OTEL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **values}


def granian_workers(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Granian's worker processes: the forked children of Granian's main process."""
    found = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            parent = process.parent()
            if parent is not None and _is_granian(parent) and _is_granian(process):
                found.append(process)
    return found


def uvicorn_workers(processes: list[psutil.Process]) -> list[psutil.Process]:
    """uvicorn's workers: the processes its supervisor spawned (`--workers` > 1), else uvicorn itself."""
    spawned, alone = [], []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            command = process.cmdline()
            if any("spawn_main" in part for part in command):
                spawned.append(process)
            elif "uvicorn" in command[1:3]:
                alone.append(process)
    return spawned or alone


class Server:
    """An HTTP server under test: a command whose output goes to a log file, on `port`; `find_workers`
    picks its worker processes (whose CPU and memory are measured) among it and its descendants."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        port: int,
        log: Path,
        cwd: Path,
        find_workers: Callable[[list[psutil.Process]], list[psutil.Process]] = granian_workers,
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.port = port
        self.log = log
        self.cwd = cwd
        self.find_workers = find_workers
        self.process: subprocess.Popen[bytes] | None = None
        self.known: dict[int, psutil.Process] = {}

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it in a new session (Ctrl-C in the terminal reaches only the bench) and wait until ready."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()
        self._remember_descendants()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartFailed(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            if answers_health(self.url, timeout=2):
                return
            time.sleep(0.2)
        raise StartFailed(f"{self.name} was not ready within {READY_TIMEOUT:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _remember_descendants(self) -> None:
        assert self.process is not None
        with contextlib.suppress(psutil.Error):
            main = psutil.Process(self.process.pid)
            self.known[main.pid] = main
            for child in main.children(recursive=True):
                self.known[child.pid] = child

    def workers(self) -> list[psutil.Process]:
        """The server's worker processes that are running now."""
        if self.process is None:
            return []
        self._remember_descendants()
        running = []
        for process in self.known.values():
            with contextlib.suppress(psutil.Error):
                if process.is_running():
                    running.append(process)
        return self.find_workers(running)

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the workers are idle, so work queued by one run (argon2 logins the client has
        given up on) cannot slow the next. Returns after `timeout` regardless."""
        workers = self.workers()
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        used = _cpu_seconds(workers)
        while time.monotonic() < deadline:
            time.sleep(SETTLE_STEP)
            now, used_now = time.monotonic(), _cpu_seconds(workers)
            busy, used = (used_now - used) / SETTLE_STEP, used_now
            if busy > IDLE_CPU:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= SETTLE_QUIET:
                return

    def worker_cpu_seconds(self) -> float:
        """CPU time (user + system) the workers have used so far."""
        return _cpu_seconds(self.workers())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of every process of the server so far: the workers, the
        processes that started them, and whatever they started."""
        if self.process is None:
            return 0.0
        with contextlib.suppress(psutil.Error):
            return tree_cpu_seconds(psutil.Process(self.process.pid))
        return 0.0

    def worker_rss_mib(self) -> list[float]:
        """The resident memory of each worker, in MiB."""
        sizes = []
        for worker in self.workers():
            with contextlib.suppress(psutil.Error):
                sizes.append(round(worker.memory_info().rss / 2**20, 1))
        return sorted(sizes)

    def stop(self) -> None:
        """SIGTERM (Granian drains), wait; then kill whatever it started that is still alive, by pid."""
        if self.process is None:
            return
        self._remember_descendants()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _, alive = psutil.wait_procs(list(self.known.values()), timeout=5)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.process = None


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) one process has used so far (0 once it is gone)."""
    return _cpu_seconds([psutil.Process(pid)]) if psutil.pid_exists(pid) else 0.0


def tree_cpu_seconds(root: psutil.Process) -> float:
    """CPU time (user + system) of `root`, its live descendants, and its children that have exited
    (which the kernel adds to the parent once reaped: a postmaster reaps every backend)."""
    times = root.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    return total + _cpu_seconds(root.children(recursive=True))


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _is_granian(process: psutil.Process) -> bool:
    return "granian" in process.cmdline()[1:3]


def granian_command(interface: str, target: str, workers: int, port: int, *factory: str) -> list[str]:
    """Granian as the launcher runs it (uvloop, no websockets, warnings only), for the ceiling."""
    return [
        sys.executable, "-m", "granian", "--interface", interface, *factory,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--no-ws", "--log-level", "warning", target,
    ]  # fmt: skip


def uvicorn_command(python: Path, target: str, workers: int, port: int) -> list[str]:
    """uvicorn as the guides deploy it: uvloop, httptools, no access log, warnings only."""
    return [
        str(python), "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log", target,
    ]  # fmt: skip
