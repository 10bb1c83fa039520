"""`just bench --profile`: py-spy samples every worker of a target during its measured run (the first
round), and the report splits each target's sampled Python time by whose code was running — Litestar,
Storefront, asyncpg, asyncio, … — with the hottest functions. The raw samples (collapsed stacks, the
input of flamegraph.pl and speedscope) are kept in `bench/results/`."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.infra import ROOT

RATE_HZ = 250
# Whose code a sampled frame is in. Installed packages by their name after `site-packages/` (the
# checkout's own folder may be called anything, `storefront` included); then this repository's
# code by its path; the rest is the standard library (asyncio apart).
PACKAGES = {"litestar": "litestar", "asyncpg": "asyncpg", "valkey": "valkey", "granian": "granian", "uvloop": "asyncio"}
SOURCES = ((ROOT / "src" / "storefront", "storefront"), (ROOT / "bench", "bench app"))
STDLIB = "stdlib"
TOP = 12


class ProfilerMissing(RuntimeError):
    """py-spy is not installed."""


def py_spy() -> str:
    """The py-spy binary (the dev dependency group has it, beside this interpreter)."""
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise ProfilerMissing("--profile needs py-spy (in the dev dependency group: just bench runs with it)")
    return found


def layer_of(filename: str) -> str:
    """The layer whose code `filename` (an absolute path) is."""
    _, installed, inside = filename.rpartition("/site-packages/")
    if installed:
        return PACKAGES.get(inside.split("/", 1)[0], "third-party")
    for folder, name in SOURCES:
        if filename.startswith(f"{folder}/"):
            return name
    return "asyncio" if "/asyncio/" in filename else STDLIB


def parse_frame(frame: str) -> tuple[str, str]:
    """`function (file:line)` → (function, file)."""
    function, _, where = frame.rpartition(" (")
    return (function or frame), where.rstrip(")").rsplit(":", 1)[0]


@dataclass
class Profile:
    """Samples of one target's workers in one run: where the Python time went (self time, by the
    innermost frame: time in a C extension counts for the Python function that called it)."""

    samples: int = 0
    layers: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)

    def add_collapsed(self, text: str) -> None:
        """Count py-spy's raw output: one stack a line, `frame;frame;… count`."""
        for line in text.splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            function, filename = parse_frame(stack.rsplit(";", 1)[-1])
            layer = layer_of(filename)
            self.samples += int(count)
            self.layers[layer] += int(count)
            self.functions[f"{layer}: {function} ({Path(filename).name})"] += int(count)

    def shares(self) -> dict[str, float]:
        """Each layer's share of the samples, in %, largest first."""
        if not self.samples:
            return {}
        return {name: round(100.0 * count / self.samples, 1) for name, count in self.layers.most_common()}

    def as_dict(self) -> dict[str, Any]:
        """For the results file."""
        top = self.functions.most_common(TOP)
        return {
            "samples": self.samples,
            "layers_percent": self.shares(),
            "top_functions_percent": {name: round(100.0 * n / self.samples, 1) for name, n in top},
        }

    def summary(self, label: str, cpu_us: float | None) -> str:
        """Two lines: the layers' shares (and µs per request, when the CPU per request is known), then
        the hottest functions."""
        if not self.samples:
            return f"profile {label}: no samples"

        def part(name: str, share: float) -> str:
            return f"{name} {share:.0f} %" + (f" ({share * cpu_us / 100:.0f} µs)" if cpu_us else "")

        layers = ", ".join(part(name, share) for name, share in self.shares().items() if share >= 0.5)
        hot = ", ".join(f"{name} {100.0 * n / self.samples:.0f} %" for name, n in self.functions.most_common(5) if n)
        return f"profile {label} ({self.samples:,} samples): {layers}\n  hottest: {hot}"


class Recorder:
    """py-spy attached to each of a server's workers for one run."""

    def __init__(self, pids: list[int], seconds: float, output: Path) -> None:
        self.output = output
        self.files = [output.with_name(f"{output.stem}-{pid}.txt") for pid in pids]
        binary = py_spy()
        self.children = [
            subprocess.Popen(
                [
                    binary, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--duration", str(round(seconds)),
                    "--nonblocking", "--full-filenames", "--function", "--format", "raw", "-o", str(path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for pid, path in zip(pids, self.files, strict=True)
        ]  # fmt: skip

    def finish(self) -> Profile:
        """Wait for every recorder; merge their samples into one file and one profile."""
        profile, texts = Profile(), []
        for child, path in zip(self.children, self.files, strict=True):
            try:
                _, errors = child.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                _, errors = child.communicate()
            if child.returncode and not path.exists():
                print(f"py-spy failed: {errors.decode(errors='replace').strip()[:300]}", file=sys.stderr)
            with contextlib.suppress(OSError):
                texts.append(path.read_text())
                path.unlink()
        merged = "".join(texts)
        self.output.write_text(merged)
        profile.add_collapsed(merged)
        return profile

    def stop(self) -> None:
        """On the way out (an interrupt): end any recorder still running."""
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait()
