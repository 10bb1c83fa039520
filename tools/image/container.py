"""Containers and volumes of one image-test run, all named after the run, all removed at its end."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from storefront.launch.children import free_port
from tools.image.engine import TAG, Engine

READY_TIMEOUT = 30.0
# A process table from inside the container (the image has no `ps`): pid, uid, state, command line.
PS_SCRIPT = """
import os
for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    if pid == os.getpid():
        continue
    try:
        status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status").read().splitlines() if ":" in l)
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode().strip()
    except OSError:
        continue
    print(pid, status["Uid"].split()[0], status["State"].split()[0], cmd or status["Name"].strip(), sep="\\t")
"""


class CheckFailed(AssertionError):
    """A check's expectation did not hold; the message is the evidence."""


@dataclass
class Process:
    """One row of the container's process table."""

    pid: int
    uid: int
    state: str
    command: str


@dataclass
class Container:
    """A container of this run, published (or not) on 127.0.0.1:`port`."""

    engine: Engine
    name: str
    port: int | None = None

    @property
    def base(self) -> str:
        """The service's base URL from the host."""
        return f"http://127.0.0.1:{self.port}"

    def exec(self, *command: str) -> str:
        """Run a command inside (as the container's user); its stdout."""
        return self.engine.run("exec", self.name, *command, timeout=30).stdout

    def processes(self) -> list[Process]:
        """Every process in the container, the probe itself left out."""
        rows = [line.split("\t") for line in self.exec("python", "-c", PS_SCRIPT).splitlines()]
        return [Process(int(pid), int(uid), state, command) for pid, uid, state, command in rows]

    def logs(self) -> list[str]:
        """Every line the container wrote, stdout and stderr."""
        result = self.engine.run("logs", self.name, timeout=30)
        return (result.stdout + result.stderr).splitlines()

    def tail(self, lines: int = 4) -> str:
        """The last lines of its output, for the evidence of a failure."""
        return " | ".join(self.logs()[-lines:]) or "(no output)"

    def running(self) -> bool:
        """True while the container runs."""
        result = self.engine.run("inspect", "--format", "{{.State.Running}}", self.name, check=False)
        return result.stdout.strip() == "true"

    def exit_code(self, timeout: float = READY_TIMEOUT) -> int:
        """Wait for the container to exit; its exit code."""
        return int(self.engine.run("wait", self.name, timeout=timeout).stdout.strip().splitlines()[-1])

    def start(self) -> None:
        """Start it again (same volume, same port)."""
        self.engine.run("start", self.name)

    def stop(self) -> tuple[float, float]:
        """`podman stop` with its default grace period: the seconds it took, and the seconds until
        the container had exited (the rest is Podman's own clean-up: network, mounts)."""
        began, wall = time.monotonic(), time.time()
        self.engine.run("stop", self.name, timeout=60)
        took = time.monotonic() - began
        finished = self.engine.run("inspect", "--format", "{{.State.FinishedAt}}", self.name).stdout.strip()
        try:  # "2026-11-23 13:47:00.822012127 +0000 UTC": microseconds are enough
            exited = datetime.strptime(finished[:26], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp() - wall
        except ValueError:
            exited = float("nan")
        return took, exited

    def healthcheck(self) -> str:
        """Run the image's HEALTHCHECK now (Podman schedules none without systemd): its verdict."""
        result = self.engine.run("healthcheck", "run", self.name, check=False, timeout=30)
        verdict = (result.stdout + result.stderr).strip().splitlines()
        return "healthy" if result.returncode == 0 else f"unhealthy ({' | '.join(verdict[-2:]) or result.returncode})"

    def readiness(self) -> dict[str, object] | None:
        """The `/health/ready` body, or None while nothing answers."""
        try:
            return dict(httpx.get(f"{self.base}/health/ready", timeout=2).json())
        except (httpx.HTTPError, ValueError):
            return None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float:
        """Poll until `/health` is 200 and `/health/ready` says ok; the seconds it took."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            ready = self.readiness()
            if ready is not None and ready.get("status") == "ok" and self._live():
                return time.monotonic() - began
            if ready is None and not self.running():
                raise CheckFailed(f"exited with {self.exit_code()}: {self.tail()}")
            time.sleep(0.25)
        raise CheckFailed(f"not ready after {timeout:.0f} s (last readiness {self.readiness()}): {self.tail()}")

    def _live(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.base}/health", timeout=2).status_code == 200
        return False


@dataclass
class Lab:
    """Creates this run's containers and volumes under one prefix, and removes exactly those."""

    engine: Engine
    image: str = TAG
    prefix: str = field(default_factory=lambda: f"sf-image-test-{secrets.token_hex(3)}")
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(36))  # 48 characters

    def volume(self) -> str:
        """A new named volume."""
        name = f"{self.prefix}-v{len(self.volumes) + 1}"
        self.engine.run("volume", "create", name)
        self.volumes.append(name)
        return name

    def mountpoint(self, volume: str) -> Path:
        """Where a (rootful) volume's files are on the host."""
        return Path(self.engine.run("volume", "inspect", "--format", "{{.Mountpoint}}", volume).stdout.strip())

    def run(
        self,
        label: str,
        *options: str,
        volume: str | None = None,
        inner_port: int | None = 8000,
        secret: bool = True,
        mail_disabled: bool = True,
    ) -> Container:
        """Start a detached container on `volume` (a new one by default) with the run's SECRET_KEY
        and MAIL_DISABLED=true (no relay here), published on a free 127.0.0.1 port when `inner_port` is set."""
        name = f"{self.prefix}-{label}"
        port = free_port() if inner_port else None
        args = ["run", "-d", "--name", name, "-v", f"{volume or self.volume()}:/data"]
        args += ["-e", f"SECRET_KEY={self.secret}"] if secret else []
        args += ["-e", "MAIL_DISABLED=true"] if mail_disabled else []
        args += ["-p", f"127.0.0.1:{port}:{inner_port}"] if inner_port else []
        self.containers.append(name)
        self.engine.run(*args, *options, self.image, timeout=60)
        return Container(self.engine, name, port)

    def cleanup(self) -> None:
        """Remove every container and volume this run created (and nothing else)."""
        for name in self.containers:
            self.engine.run("rm", "--force", "--volumes", "--time", "2", name, check=False, timeout=60)
        for name in self.volumes:
            self.engine.run("volume", "rm", "--force", name, check=False, timeout=60)


def json_lines(lines: list[str]) -> list[str]:
    """The lines that are not one JSON object each."""
    bad = []
    for line in lines:
        try:
            ok = isinstance(json.loads(line), dict)
        except ValueError:
            ok = False
        if not ok:
            bad.append(line)
    return bad
