"""Running a bench: every planned (scenario, target) run, round after round, each warmed up, measured
with wrk (req/s, latency, the workers' and the whole system's CPU per request, PostgreSQL's
transactions per request, memory) and, when asked, profiled; and cache-coherence's writes and reads."""

from __future__ import annotations

import contextlib
import sys
import time

from bench import coherence, report, tables
from bench.options import (
    CACHE_SCENARIOS,
    COHERENCE,
    COHERENCE_READERS,
    COHERENCE_WRITES_PER_S,
    POPULAR,
    STORM,
    TRICKLE,
    TRICKLE_CONNECTIONS,
    TRICKLE_PAUSE_MS,
    TRICKLE_RATE,
    Options,
)
from bench.profile import Profile, Recorder
from bench.report import COHERENCE_READS, COHERENCE_WRITES, PGBOUNCER, STOREFRONT, Row
from bench.seed import admin_token
from bench.staleness import Coherence
from bench.system import Reading, SystemMeter, window_figures
from bench.targets import Targets
from bench.workspace import Workspace
from bench.wrk import Load, WrkFailed, WrkResult, WrkRun, build_script


def cpu_per_request(cpu_seconds: float, requests: int) -> float | None:
    """The server workers' CPU time per request, in µs: robust where req/s is not, since wrk, the
    databases and the server share the same cores."""
    return round(cpu_seconds / requests * 1e6, 1) if requests else None


class Progress:
    """One line per run; on a terminal it counts the seconds down in place."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stdout.isatty()

    def wait(self, label: str, runs: list[WrkRun], seconds: float) -> None:
        """Show `label` until every run has finished."""
        self.done += 1
        head = f"[{self.done:>2}/{self.total}] {label}"
        started = time.monotonic()
        if not self.tty:
            print(f"{head} ({seconds:.0f} s)", flush=True)
        while any(run.process.poll() is None for run in runs):
            if self.tty:
                print(f"\r{head}  {min(time.monotonic() - started, seconds):4.0f}/{seconds:.0f} s", end="", flush=True)
            time.sleep(0.25)

    def result(self, result: WrkResult, cpu_us: float | None = None) -> None:
        """Close the run's line with its headline figures."""
        cpu = f", {cpu_us:.0f} µs CPU/req" if cpu_us is not None else ""
        line = f"  → {result.rps:,.0f} req/s{cpu}, p99 {result.p99_ms:.2f} ms, {result.errors} errors"
        print(line if not self.tty else line + "\033[K", flush=True)


class Rounds:
    """The runs of one invocation against its started targets: their median rows per scenario, and
    the profiles of the first round when profiling."""

    def __init__(self, options: Options, workspace: Workspace, targets: Targets, stack: contextlib.ExitStack) -> None:
        self.options = options
        self.workspace = workspace
        self.targets = targets
        self.stack = stack
        self.results: dict[str, dict[str, Row]] = {}
        self.profiles: dict[str, dict[str, Profile]] = {}
        self.profiling = False
        self.admin: str | None = None  # cache-coherence's writer's token, made on first use

    def run(self, runs: list[tuple[str, str]]) -> dict[str, dict[str, Row]]:
        """Every planned run, round after round (targets interleaved, so a burst of background load
        hits them alike); each scenario's table is printed as soon as it is complete."""
        progress = Progress(len(runs) * self.options.rounds)
        for scenario in self.options.scenarios:
            targets = [target for name, target in runs if name == scenario]
            rounds = []
            for number in range(self.options.rounds):
                self.profiling = self.options.profile and number == 0
                rounds.append(self._round(progress, scenario, targets))
            self.results[scenario] = report.median_rows(rounds)
            self._print_scenario(scenario)
        return self.results

    def _print_scenario(self, scenario: str) -> None:
        print("\n" + tables.scenario_table(scenario, self.results[scenario]), flush=True)
        for target, profile in self.profiles.get(scenario, {}).items():
            print(profile.summary(target, self.results[scenario][target].cpu_us), flush=True)
        print(flush=True)

    def _round(self, progress: Progress, scenario: str, targets: list[str]) -> dict[str, Row]:
        if scenario == "read-during-logins":
            return self._during_logins(progress)
        if scenario == POPULAR:
            return self._popular_under_orders(progress)
        if scenario == COHERENCE:
            return self._coherence(progress)
        return {target: self._measure(progress, scenario, target) for target in targets}

    def _wrk(self, scenario: str, target: str, load: Load) -> WrkRun:
        url = self.targets.servers[target].url
        run = WrkRun(url, build_script(scenario, self.workspace.root / "lua"), load, self.workspace.data)
        self.stack.callback(run.stop)
        return run

    def _load(self, duration: float, connections: int | None = None) -> Load:
        connections = connections or self.options.connections
        return Load(duration, connections, min(self.options.threads, connections))

    def _warm_up(self, scenario: str, target: str, connections: int | None = None) -> None:
        """A short unmeasured run (pools filled, code paths warm), then wait for the server to go idle."""
        with contextlib.suppress(WrkFailed):
            self._wrk(scenario, target, self._load(self.options.warmup, connections)).result()
        self.targets.servers[target].settle()

    def _measure(self, progress: Progress, scenario: str, target: str) -> Row:
        connections = self.options.storm_connections if scenario == "login" else None
        self._warm_up(scenario, target, connections)
        # Cached reads should cost PostgreSQL ~nothing: their window is charged exactly its own
        # transactions (see bench.system), at the price of two waits of up to ~10 s.
        quiet = target == STOREFRONT and scenario in CACHE_SCENARIOS and not self.options.quick
        server = self.targets.servers[target]
        if quiet:
            self._meter().quiet(since=time.monotonic())
        cpu_before, pooler_before = server.worker_cpu_seconds(), self.targets.pooler_cpu_seconds(target)
        system_before = self._reading(target)
        recorder = self._recorder(scenario, target)
        run = self._wrk(scenario, target, self._load(self.options.duration, connections))
        progress.wait(f"{scenario} → {target}", [run], self.options.duration)
        result = run.result()
        ended = time.monotonic()
        cpu_after, pooler_after = server.worker_cpu_seconds(), self.targets.pooler_cpu_seconds(target)
        if quiet:
            self._meter().quiet(since=ended)
        system_after = self._reading(target)
        if recorder is not None:
            self.profiles.setdefault(scenario, {})[target] = recorder.finish()
        cpu_us = cpu_per_request(cpu_after - cpu_before, result.requests)
        pooler_us = cpu_per_request(pooler_after - pooler_before, result.requests)
        progress.result(result, cpu_us)
        server.settle()
        row = Row(target, result, server.worker_rss_mib(), cpu_us=cpu_us)
        row.pooler_cpu_us = pooler_us if target == PGBOUNCER else None
        row.system_cpu_us, row.pg_xacts = window_figures(system_before, system_after, result.requests)
        return row

    def _meter(self) -> SystemMeter:
        assert self.targets.meter is not None
        return self.targets.meter

    def _reading(self, target: str) -> Reading:
        """The whole system's counters now, with `target`'s server (and PgBouncer's, in its path)."""
        server = self.targets.servers[target]
        return self._meter().read(server.cpu_seconds(), self.targets.pooler_cpu_seconds(target))

    def _recorder(self, scenario: str, target: str) -> Recorder | None:
        """py-spy on the target's workers for this run, when profiling."""
        if not self.profiling:
            return None
        pids = [worker.pid for worker in self.targets.servers[target].workers()]
        stacks = self.workspace.results_file(f"-{scenario}-{target}.collapsed.txt")
        recorder = Recorder(pids, self.options.duration, stacks)
        self.stack.callback(recorder.stop)
        return recorder

    def _during_logins(self, progress: Progress) -> dict[str, Row]:
        """item-get on the usual connections while a login storm runs on a second wrk."""
        self._warm_up("item-get", STOREFRONT)
        duration = self.options.duration
        storm = self._wrk("login", STOREFRONT, self._load(duration + 1, self.options.storm_connections))
        time.sleep(0.5)  # the storm is under way before the reads start
        reads = self._wrk("item-get", STOREFRONT, self._load(duration))
        progress.wait(f"read-during-logins → {STOREFRONT} (+ login storm)", [reads, storm], duration + 1)
        read_result, storm_result = reads.result(), storm.result()
        progress.result(read_result)
        server = self.targets.servers[STOREFRONT]
        server.settle()
        rss = server.worker_rss_mib()
        return {STOREFRONT: Row(STOREFRONT, read_result, rss), STORM: Row(STORM, storm_result, rss)}

    def _popular_under_orders(self, progress: Progress) -> dict[str, Row]:
        """`/items/popular` on a few connections while a second wrk places a trickle of orders."""
        connections = self.options.popular_connections
        self._warm_up("popular", STOREFRONT, connections)
        duration = self.options.duration
        trickle = Load(duration + 1, TRICKLE_CONNECTIONS, 1, script_args=(str(TRICKLE_PAUSE_MS),))
        orders = self._wrk("order-trickle", STOREFRONT, trickle)
        time.sleep(0.5)  # orders are under way before the reads start
        server = self.targets.servers[STOREFRONT]
        cpu_before, system_before = server.worker_cpu_seconds(), self._reading(STOREFRONT)
        reads = self._wrk("popular", STOREFRONT, self._load(duration, connections))
        progress.wait(f"{POPULAR} → {STOREFRONT} (+ ≤ {TRICKLE_RATE} orders/s)", [reads, orders], duration + 1)
        read_result = reads.result()
        # Per read, the trickle's orders included (a few % of the total at ~1,000+ reads/s).
        cpu_us = cpu_per_request(server.worker_cpu_seconds() - cpu_before, read_result.requests)
        system_us, xacts = window_figures(system_before, self._reading(STOREFRONT), read_result.requests)
        order_result = orders.result()
        progress.result(read_result, cpu_us)
        server.settle()
        rss = server.worker_rss_mib()
        return {
            STOREFRONT: Row(STOREFRONT, read_result, rss, cpu_us=cpu_us, system_cpu_us=system_us, pg_xacts=xacts),
            TRICKLE: Row(TRICKLE, order_result, rss),
        }

    def _coherence(self, progress: Progress) -> dict[str, Row]:
        """Writes on `storefront` (A) at a steady pace, reads of the same item on a second instance (B)."""
        if self.admin is None:
            self.admin = admin_token(self.targets.database_url, self.workspace.secret)
        item = (self.workspace.data / "items.txt").read_text().split()[-1]
        a, b = self.targets.servers[STOREFRONT], self.targets.second_instance()
        progress.done += 1
        label = f"{COHERENCE} → writes on {STOREFRONT} ({COHERENCE_WRITES_PER_S}/s), reads on {COHERENCE_READS}"
        print(f"[{progress.done:>2}/{progress.total}] {label} ({self.options.duration:.0f} s)", flush=True)
        writes, reads, write_side, read_side = coherence.run(
            a.url, b.url, self.admin, item, self.options.duration, COHERENCE_WRITES_PER_S, COHERENCE_READERS
        )
        read_result = read_side.result()
        progress.result(read_result)
        seen = Coherence.measure(writes, reads)
        rows = {
            COHERENCE_READS: Row(COHERENCE_READS, read_result, b.worker_rss_mib(), coherence=seen),
            COHERENCE_WRITES: Row(COHERENCE_WRITES, write_side.result(), a.worker_rss_mib()),
        }
        a.settle()
        b.settle()
        return rows
