"""Server processes a launcher owns: each in its own session, told SIGTERM if the launcher dies,
and stopped with everything in its process group — never an orphan."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1


class ChildError(RuntimeError):
    """A child server is missing, or did not start; the message says which and why in one line."""


def die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def as_user(name: str | None) -> Callable[[], None]:
    """A `preexec_fn`: drop root for `name` (when given), then ask for SIGTERM on the launcher's death
    (after the switch: a change of uid clears the parent-death signal)."""

    def switch() -> None:
        if name is not None:
            entry = pwd.getpwnam(name)
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
        die_with_parent()

    return switch


def require(program: str, hint: str) -> str:
    """The path of `program`, or ChildError with the install hint."""
    found = shutil.which(program) or next(
        (str(path) for path in (Path("/usr/sbin") / program, Path("/sbin") / program) if path.exists()), None
    )
    if found is None:
        raise ChildError(f"{program} is not installed: {hint}")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_health(base_url: str, timeout: float) -> bool:
    """True when the Storefront at `base_url` answers its liveness probe, `GET /health`, with 200."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=timeout) as response:  # noqa: S310 - our own URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class Child:
    """One server process: `start()` runs it in a new session with its output in `log` (else on the
    launcher's own stdout and stderr), `terminate()` sends SIGTERM to its group once, `stop()` waits
    for it and kills what is left."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log: Path | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
    ) -> None:
        self.name, self.argv, self.log, self.env, self.user = name, argv, log, env, user
        self.process: subprocess.Popen[bytes] | None = None
        self.terminated = False

    def start(self) -> None:
        """Start the process."""
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(self.log.open("ab")) if self.log is not None else None
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT if out is not None else None,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=as_user(self.user),
            )

    @property
    def pid(self) -> int | None:
        """The process id, once started."""
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def wait_port(self, host: str, port: int, timeout: float = 30.0) -> None:
        """Wait until the process accepts connections on host:port; ChildError with its log's end if
        it exits or takes longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ChildError(f"{self.name} exited at start:\n{self.tail()}")
            if port_open(host, port):
                return
            time.sleep(0.1)
        raise ChildError(f"{self.name} did not listen on {host}:{port} within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 15) -> str:
        """The end of the log."""
        if self.log is None:
            return "(its output is above)"
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def terminate(self, signum: int = signal.SIGTERM) -> None:
        """`signum` to the process group, once (a second SIGTERM means "at once" to `serve`)."""
        if self.process is not None and not self.terminated:
            self.terminated = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)  # its own session: the group id is its pid

    def stop(self, timeout: float = 30.0, signum: int = signal.SIGTERM) -> None:
        """Terminate (with `signum`), wait up to `timeout`, then SIGKILL whatever is left of the group."""
        if self.process is None:
            return
        pgid = self.process.pid
        self.terminate(signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
