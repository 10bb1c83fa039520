"""`just bench --profile`: py-spy samples every worker of a target during its measured run (the first
round), and the report splits each target's sampled Python time by whose code was running — Litestar,
Storefront, asyncpg, asyncio, … — with the hottest functions. The raw samples (collapsed stacks, the
input of flamegraph.pl and speedscope) and a flame graph of each worker (SVG, py-spy's own, which the
HTML report shows) are kept in `bench/results/`."""

from __future__ import annotations

import contextlib
import re
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
INVALID_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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
    flamegraphs: list[str] = field(default_factory=list)  # each worker's SVG, beside the results file

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
            "flamegraphs": self.flamegraphs,
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
    """py-spy attached to each of a server's workers for one run, twice: the raw stacks (split by layer,
    merged into `output`) and a flame graph of each worker (`…-worker1.svg`, … beside it). A second
    sampler per worker costs ~3 % of a core; the workers' own CPU figures do not count it."""

    def __init__(self, pids: list[int], seconds: float, output: Path) -> None:
        self.output = output
        self.files = [output.with_name(f"{output.stem}-{pid}.txt") for pid in pids]
        stem = output.name.partition(".")[0]
        self.flames = [output.with_name(f"{stem}-worker{n}.svg") for n in range(1, len(pids) + 1)]
        common = ["--rate", str(RATE_HZ), "--duration", str(round(seconds)), "--nonblocking", "--function"]
        self.children = [
            _spy(["--pid", str(pid), *common, "--full-filenames", "--format", "raw", "-o", str(path)])
            for pid, path in zip(pids, self.files, strict=True)
        ]
        self.flame_children = [
            _spy(["--pid", str(pid), *common, "--format", "flamegraph", "-o", str(path)])
            for pid, path in zip(pids, self.flames, strict=True)
        ]

    def finish(self) -> Profile:
        """Wait for every recorder; merge their samples into one file and one profile, which names the
        workers' flame graphs."""
        profile, texts = Profile(), []
        for child, path in zip(self.children + self.flame_children, self.files + self.flames, strict=True):
            _wait(child, path)
        for path in self.files:
            with contextlib.suppress(OSError):
                texts.append(path.read_text())
                path.unlink()
        merged = "".join(texts)
        self.output.write_text(merged)
        profile.add_collapsed(merged)
        for path in self.flames:
            with contextlib.suppress(OSError):
                path.write_bytes(xml_safe(path.read_bytes()))
        profile.flamegraphs = [path.name for path in self.flames if path.exists()]
        return profile

    def stop(self) -> None:
        """On the way out (an interrupt): end any recorder still running."""
        for child in self.children + self.flame_children:
            if child.poll() is None:
                child.kill()
                child.wait()


def xml_safe(svg: bytes) -> bytes:
    """py-spy's SVG without the control characters XML forbids: a frame read mid-change (`--nonblocking`)
    can carry a NUL in its name, and one makes a browser refuse the whole flame graph."""
    return INVALID_XML.sub(b"", svg)


def _spy(arguments: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([py_spy(), "record", *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(child: subprocess.Popen[bytes], path: Path) -> None:
    """Wait for one recorder (killed past 30 s); say why when it wrote nothing."""
    try:
        _, errors = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        _, errors = child.communicate()
    if child.returncode and not path.exists():
        print(f"py-spy failed: {errors.decode(errors='replace').strip()[:300]}", file=sys.stderr)
