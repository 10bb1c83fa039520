"""Driving `wrk`: the scenario scripts, the command line, and the stats its `done()` callback prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
MARKER = "BENCH_RESULT "
INSTALL_HINT = "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu, as root), then run the bench again"


class WrkMissing(RuntimeError):
    """wrk is not on PATH."""


class WrkFailed(RuntimeError):
    """wrk exited badly or printed no result line."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms) and every kind of error."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int  # connect + read + write + timeout
    non_2xx: int  # HTTP status >= 400 (what wrk counts as `status` errors)

    @property
    def errors(self) -> int:
        """Every failed request, of any kind."""
        return self.socket_errors + self.non_2xx

    def as_dict(self) -> dict[str, float | int]:
        """A plain dict for the results file."""
        return asdict(self)


def wrk_path() -> str:
    """The wrk executable, or WrkMissing with the install command."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(INSTALL_HINT)
    return path


def parse_result(output: str) -> WrkResult:
    """The stats of the `BENCH_RESULT {...}` line `done()` prints (WrkFailed when there is none)."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            seconds = raw["duration_us"] / 1e6
            return WrkResult(
                requests=raw["requests"],
                seconds=round(seconds, 3),
                rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
                p50_ms=raw["p50_us"] / 1000,
                p95_ms=raw["p95_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
                socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
                non_2xx=raw["status"],
            )
    raise WrkFailed(f"wrk printed no result line:\n{output[-2000:]}")


def build_script(scenario: str, out_dir: Path) -> Path:
    """`common.lua` followed by the scenario's script, as one file wrk can load."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = (SCENARIOS_DIR / "common.lua").read_text() + "\n" + (SCENARIOS_DIR / f"{scenario}.lua").read_text()
    path = out_dir / f"{scenario}.lua"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class Load:
    """How hard and how long to push."""

    duration: float
    connections: int
    threads: int = 1
    timeout: float = 10.0
    script_args: tuple[str, ...] = ()  # what the script's `init(args)` receives


def command(url: str, script: Path, load: Load) -> list[str]:
    """The wrk command line for one run."""
    return [
        wrk_path(),
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.duration))}s",
        f"--timeout={round(load.timeout)}s",
        "-s",
        str(script),
        url,
        *(["--", *load.script_args] if load.script_args else []),
    ]


class WrkRun:
    """A wrk process in the background; `result()` waits for it and parses its stats."""

    def __init__(self, url: str, script: Path, load: Load, data_dir: Path) -> None:
        env = {**os.environ, "BENCH_DATA": str(data_dir)}
        self.process = subprocess.Popen(
            command(url, script, load), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def result(self) -> WrkResult:
        """Wait for wrk to finish and return its stats."""
        output, _ = self.process.communicate()
        if self.process.returncode != 0:
            raise WrkFailed(f"wrk exited with {self.process.returncode}:\n{output[-2000:]}")
        return parse_result(output)

    def stop(self) -> None:
        """Kill wrk if it is still running (on Ctrl-C or an error)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
