"""The statistics of `cache-coherence`: from the writer's timed writes on one instance and the readers'
timed reads on another, how long each write took to show there (its invalidation delay) and how many
reads still showed an older version well after a write had been answered."""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

STALE_AFTER_S = 0.050  # a read sent this long after a write's answer must show that write


@dataclass(frozen=True)
class Write:
    """A write's answer: when it arrived (monotonic seconds) and the version its ETag names."""

    answered: float
    version: int


@dataclass(frozen=True)
class Read:
    """A read: when it was sent and answered (monotonic seconds) and the version its ETag names."""

    sent: float
    answered: float
    version: int


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` in 0–100) of `values`; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def invalidation_delays(writes: list[Write], reads: list[Read]) -> tuple[list[float], int]:
    """Per write, the seconds from its answer to the first read answered with its version or a later
    one (0 when a read had shown it before the writer heard back); and how many writes no read showed."""
    by_answer = sorted(reads, key=lambda read: read.answered)
    delays, unseen = [], 0
    for write in writes:
        first = next((read.answered for read in by_answer if read.version >= write.version), None)
        if first is None:
            unseen += 1
            continue
        delays.append(max(0.0, first - write.answered))
    return delays, unseen


def stale_reads(writes: list[Write], reads: list[Read], limit: float = STALE_AFTER_S) -> int:
    """Reads sent more than `limit` seconds after some write was answered that still show an older
    version than that write's (the writes are sequential, so their versions grow with time)."""
    ordered = sorted(writes, key=lambda write: write.answered)
    times = [write.answered for write in ordered]
    newest = list(itertools.accumulate((write.version for write in ordered), max))
    stale = 0
    for read in reads:
        known = bisect.bisect_left(times, read.sent - limit)  # writes answered before sent − limit
        if known and read.version < newest[known - 1]:
            stale += 1
    return stale


@dataclass
class Coherence:
    """What one or more `cache-coherence` runs saw."""

    writes: int = 0
    reads: int = 0
    delays_ms: list[float] = field(default_factory=list)
    unseen: int = 0  # writes no read showed before the run ended
    stale: int = 0  # reads later than STALE_AFTER_S after a write that still showed an older version

    @classmethod
    def measure(cls, writes: list[Write], reads: list[Read]) -> Coherence:
        """The statistics of one run."""
        delays, unseen = invalidation_delays(writes, reads)
        delays_ms = [round(delay * 1000, 2) for delay in delays]
        return cls(len(writes), len(reads), delays_ms, unseen, stale_reads(writes, reads))

    @classmethod
    def merge(cls, runs: list[Coherence]) -> Coherence:
        """Several rounds as one: every write's delay, every count summed."""
        merged = cls()
        for run in runs:
            merged.writes += run.writes
            merged.reads += run.reads
            merged.delays_ms += run.delays_ms
            merged.unseen += run.unseen
            merged.stale += run.stale
        return merged

    def summary(self) -> dict[str, Any]:
        """The delay's p50, p99 and max in ms with the counts (the results file, the report)."""
        return {
            "writes": self.writes,
            "reads": self.reads,
            "delay_p50_ms": percentile(self.delays_ms, 50),
            "delay_p99_ms": percentile(self.delays_ms, 99),
            "delay_max_ms": max(self.delays_ms, default=None),
            "writes_never_seen": self.unseen,
            "stale_reads_after_50ms": self.stale,
        }

    def line(self) -> str:
        """One line for the scenario's table."""
        return summary_line(self.summary())


def summary_line(s: dict[str, Any]) -> str:
    """`Coherence.summary()` (as in the results file) in one line."""
    figures = "/".join("—" if s[key] is None else f"{s[key]:.1f}" for key in ("delay_p50_ms", "delay_p99_ms"))
    top = "—" if s["delay_max_ms"] is None else f"{s['delay_max_ms']:.1f}"
    return (
        f"invalidation delay over {s['writes']} writes (write answered on A → first read of B showing it): "
        f"p50/p99 {figures} ms, max {top} ms; {s['writes_never_seen']} never seen; "
        f"{s['stale_reads_after_50ms']} stale reads later than {STALE_AFTER_S * 1000:.0f} ms after a write (0)"
    )
