"""`just bench --instances N`: req/s through nginx with 1 … N Storefront instances in the cluster
topology (each its own `storefront serve`, through PgBouncer in transaction mode, one Valkey), next
to N same-work ceilings behind nginx the same way: how throughput grows with instances on the
machine at hand. Every instance runs for the whole bench; the run with n instances goes through an
nginx whose upstreams are the first n."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bench import outcome, report, tables
from bench.infra import Server, StartFailed, clean_environment, granian_command
from bench.options import NO_LIMIT, POOL_PER_WORKER, SPARE_CONNECTIONS, settings
from bench.rounds import Rounds
from bench.session import Bench
from bench.targets import Targets
from storefront.launch.children import ChildError, free_port
from storefront.launch.nginx import Nginx

STOREFRONT_X = "storefront×{n}"
CEILING_X = "ceiling×{n}"
PGBOUNCER_POOL = 20


class Fleet:
    """The first n servers of a kind behind one nginx: measured as one server (the CPU and memory of
    every member's workers, reached at nginx's address)."""

    def __init__(self, members: list[Server], nginx: Nginx) -> None:
        self.members, self.nginx = members, nginx

    @property
    def url(self) -> str:
        """nginx."""
        return f"http://127.0.0.1:{self.nginx.port}"

    def worker_cpu_seconds(self) -> float:
        """The CPU time of every member's workers so far."""
        return sum(member.worker_cpu_seconds() for member in self.members)

    def cpu_seconds(self) -> float:
        """The CPU time of every member's processes so far."""
        return sum(member.cpu_seconds() for member in self.members)

    def worker_rss_mib(self) -> list[float]:
        """The resident memory of each member's workers."""
        return sorted(size for member in self.members for size in member.worker_rss_mib())

    def settle(self) -> None:
        """Wait until every member is idle."""
        for member in self.members:
            member.settle(timeout=20)


class ScalingBench(Bench):
    """One `--instances N` invocation."""

    def plan(self) -> list[tuple[str, str]]:
        """Per scenario, n = 1 … N: Storefront, then the ceiling."""
        counts = range(1, self.options.instances + 1)
        return [
            (scenario, name.format(n=n))
            for scenario in self.options.scenarios
            for n in counts
            for name in (STOREFRONT_X, CEILING_X)
        ]

    def prepare(self) -> dict[str, Any]:
        """Databases up and seeded; PgBouncer, N instances, N ceilings, and an nginx per fleet size."""
        count = self.options.instances
        print(f"instances: 1 … {count} behind nginx (Storefront through PgBouncer), beside as many ceilings")
        targets = self.targets
        embedded, database_url, valkey_url, seeded = targets.databases()
        workers = self.options.workers
        embedded.allow_connections(count * workers * POOL_PER_WORKER + PGBOUNCER_POOL + SPARE_CONNECTIONS)
        pooled = targets.pgbouncer(database_url)
        instances = [
            targets.launch(targets.storefront(pooled, valkey_url, f"storefront-{i}", database_url))
            for i in range(count)
        ]
        ceilings = [targets.launch(_same_work(targets, i, database_url, valkey_url)) for i in range(count)]
        for n in range(1, count + 1):
            targets.servers[STOREFRONT_X.format(n=n)] = self._fleet(f"storefront-{n}", instances[:n])  # type: ignore[assignment]
            targets.servers[CEILING_X.format(n=n)] = self._fleet(f"ceiling-{n}", ceilings[:n])  # type: ignore[assignment]
        return asdict(seeded)

    def _fleet(self, name: str, members: list[Server]) -> Fleet:
        upstreams = [f"127.0.0.1:{member.port}" for member in members]
        nginx = Nginx(self.workspace.root / f"nginx-{name}", "127.0.0.1", free_port(), upstreams)
        self.stack.callback(nginx.stop)
        try:
            nginx.start()
        except ChildError as exc:
            raise StartFailed(str(exc)) from None
        return Fleet(members, nginx)

    def report(self, seeded: dict[str, Any], facts: dict[str, Any]) -> bool:
        """Print the scaling table, write the results file; True when a request failed."""
        table = scaling(self.results, self.options.instances)
        print(scaling_table(table, facts["cpu_count"] or 1) + "\n")
        path = outcome.save(self.rounds, _document(self.rounds, seeded, facts, table))
        outcome.announce(path)
        return outcome.any_failed(self.results)


def _same_work(targets: Targets, number: int, database_url: str, valkey_url: str) -> Server:
    """The `number`th same-work ceiling of the fleet, under Granian RSGI."""
    port = free_port()
    env = clean_environment(
        CEILING_MODE="same-work",
        DATABASE_URL=database_url,
        VALKEY_URL=valkey_url,
        SECRET_KEY=targets.workspace.secret,
        RATE_LIMIT_PER_MINUTE=NO_LIMIT,
    )
    command = granian_command("rsgi", "bench.ceiling:app", targets.options.workers, port)
    name = f"ceiling-{number}"
    return Server(name, command, env, port, targets.workspace.log(name), cwd=targets.workspace.root)


def scaling(results: dict[str, dict[str, report.Row]], instances: int) -> dict[str, list[dict[str, Any]]]:
    """Per scenario and fleet size: req/s, its multiple of one instance's, CPU µs/req, errors."""
    table: dict[str, list[dict[str, Any]]] = {}
    for scenario, rows in results.items():
        table[scenario] = []
        for n in range(1, instances + 1):
            line: dict[str, Any] = {"instances": n}
            for kind, name in (("storefront", STOREFRONT_X), ("ceiling", CEILING_X)):
                row, one = rows[name.format(n=n)], name.format(n=1)
                line[kind] = {
                    "rps": row.result.rps,
                    "times_one": report.rps_ratio(rows, name.format(n=n), one),
                    "cpu_us_per_request": row.cpu_us,
                    "errors": row.result.errors,
                }
            table[scenario].append(line)
    return table


def scaling_table(table: dict[str, list[dict[str, Any]]], cores: int) -> str:
    """The table of docs/scaling-out.md: per scenario and instance count, Storefront's and the ceiling's req/s and
    their multiple of one instance's, and a line on what this machine can show."""
    lines = []
    for scenario, sizes in table.items():
        for size in sizes:
            cells = [scenario, str(size["instances"])]
            for kind in ("storefront", "ceiling"):
                figures = size[kind]
                factor = figures["times_one"]
                cpu = figures["cpu_us_per_request"]
                cells += [f"{figures['rps']:,.0f}", "—" if factor is None else f"{factor:.2f}×"]
                cells += ["—" if cpu is None else f"{cpu:,.0f}"]
            cells.append(str(size["storefront"]["errors"] + size["ceiling"]["errors"]))
            lines.append(cells)
    header = ["scenario", "instances", "storefront req/s", "× 1", "CPU µs/req", "ceiling req/s", "× 1"]
    header += ["CPU µs/req", "errors"]
    return tables.table(header, lines) + "\n" + machine_note(cores)


def machine_note(cores: int) -> str:
    """What the table can say on this machine."""
    note = (
        f"{cores} CPU cores: wrk, nginx, PgBouncer, PostgreSQL, Valkey and every instance share them, so "
        "req/s grows with instances only while cores are idle"
    )
    if cores <= 2:
        note += (
            " — on 2 cores there is no room to grow: one instance's worker takes a core and wrk, nginx, "
            "PgBouncer and PostgreSQL the other, so the table is flat (within this machine's noise) for "
            "Storefront and the ceiling alike. It checks the topology here; the same command on 16 cores, "
            "or with the instances on several hosts, measures the speed-up"
        )
    return note + "."


def _document(rounds: Rounds, seeded: dict[str, Any], facts: dict[str, Any], table: dict[str, Any]) -> dict[str, Any]:
    """The results file of an `--instances N` run: the scaling table beside every run."""
    return {
        "name": rounds.workspace.name,
        "machine": facts,
        "settings": settings(rounds.options),
        "seeded": seeded,
        "scaling": table,
        "note": machine_note(facts["cpu_count"] or 1),
        "results": {
            scenario: {t: row.as_dict() for t, row in runs.items()} for scenario, runs in rounds.results.items()
        },
    }
