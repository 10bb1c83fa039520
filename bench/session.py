"""One `just bench` invocation: its workspace, the targets it starts, the rounds it runs against them and
its report. `bench.scaling` builds the `--instances N` variant on it."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from typing import Any

from bench import outcome
from bench.options import Options, plan
from bench.report import Row
from bench.rounds import Rounds
from bench.targets import Targets
from bench.workspace import Workspace


class Bench:
    """Storefront beside its references (or, with `--pgbouncer` or `--otel`, its own variants)."""

    def __init__(self, options: Options, stack: contextlib.ExitStack) -> None:
        self.options = options
        self.stack = stack
        self.workspace = Workspace(options, stack)
        self.targets = Targets(options, self.workspace, stack)
        self.rounds = Rounds(options, self.workspace, self.targets, stack)

    @property
    def results(self) -> dict[str, dict[str, Row]]:
        """Per scenario and target, the median row of its rounds."""
        return self.rounds.results

    def plan(self) -> list[tuple[str, str]]:
        """This run's (scenario, target) pairs."""
        return plan(self.options.scenarios, self.options.pgbouncer, self.options.otel)

    def prepare(self) -> dict[str, Any]:
        """Databases up, migrated and seeded; every planned target's server started and ready. Returns
        what was seeded."""
        return asdict(self.targets.start_all({target for _, target in self.plan()}))

    def run(self) -> dict[str, dict[str, Row]]:
        """Every planned run, round after round; the median rows."""
        return self.rounds.run(self.plan())

    def report(self, seeded: dict[str, Any], facts: dict[str, Any]) -> bool:
        """Print the summary, write the results file; True when a request failed."""
        return outcome.print_and_save(self.rounds, seeded, facts)
