"""`storefront cluster 3` on an empty database: the instances start at once, each migration is
applied exactly once, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import collections
from collections.abc import Iterator

import psutil
import pytest

from storefront.platform.migrations import discover
from tests.support.cluster import Cluster, running_cluster
from tests.support.shop import sql

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def trio() -> Iterator[Cluster]:
    with running_cluster(3) as cluster:
        yield cluster


async def test_three_instances_at_once_apply_each_migration_exactly_once(trio: Cluster) -> None:
    runs = [line["applied"] for line in trio.lines() if line.get("msg") == "migrations applied"]
    assert len(runs) == 3  # every instance ran the migrations step…
    applied = collections.Counter(version for run in runs for version in run)
    versions = [migration.version for migration in discover()]
    assert sorted(applied) == versions  # …and between them applied each migration once
    assert set(applied.values()) == {1}
    rows = await sql(trio.dsn, "SELECT version FROM schema_migrations ORDER BY version")
    assert [row["version"] for row in rows] == versions


def test_ctrl_c_stops_every_process(trio: Cluster) -> None:
    started = trio.descendants()
    names = [" ".join(process.cmdline()) for process in started]
    assert any("pgbouncer" in name for name in names)
    assert any("nginx" in name for name in names)
    assert sum(name.endswith("-m storefront serve") for name in names) == 3
    assert trio.stop() == 0
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == []
    assert not (trio.data_dir / "cluster.json").exists()
