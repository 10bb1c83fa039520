"""One invocation's name, temporary folder, seeded data, signing secret and the servers' logs."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from bench.options import RESULTS_DIR, Options


def run_name(options: Options, stamp: str) -> str:
    """The name of the results file and logs: the UTC start, workers, instances and `-quick`."""
    instances = f"-x{options.instances}" if options.instances else ""
    return f"{stamp}-w{options.workers}{instances}{'-quick' if options.quick else ''}"


class Workspace:
    """The folder and files of one invocation; the folder is deleted at the end, the logs too unless
    they are worth keeping."""

    def __init__(self, options: Options, stack: contextlib.ExitStack) -> None:
        self.name = run_name(options, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        # A short path: PostgreSQL's socket lives inside it (~107 bytes at most).
        self.root = Path(tempfile.mkdtemp(prefix="sfb-"))
        stack.callback(shutil.rmtree, self.root, ignore_errors=True)
        self.logs: list[Path] = []
        self.keep_logs = options.keep_logs
        stack.callback(self.tidy)  # runs after the servers have stopped writing
        self.data = self.root / "wrk"
        self.secret = secrets.token_urlsafe(48)

    def log(self, target: str) -> Path:
        """A new log file for `target`'s server, in bench/results/."""
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = self.results_file(f"-{target}.log")
        self.logs.append(path)
        return path

    def results_file(self, suffix: str) -> Path:
        """A file of this run's in bench/results/: `suffix` follows the run's name."""
        return RESULTS_DIR / f"{self.name}{suffix}"

    def tidy(self) -> None:
        """At exit: delete the servers' logs (~250 bytes a request) unless they are worth keeping."""
        if not self.keep_logs:
            for path in self.logs:
                path.unlink(missing_ok=True)
