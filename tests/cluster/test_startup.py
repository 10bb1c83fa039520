"""`storefront cluster 3` on an empty database: the instances start at once, each migration is
applied exactly once, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil
import pytest
import valkey

from storefront.launch.embedded import AUTH_FILE
from storefront.launch.pgbouncer import USERS_FILE
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


async def test_pgbouncer_and_valkey_ask_for_the_passwords_the_instances_were_given(trio: Cluster) -> None:
    pooled, cache = urlsplit(trio.info["database_url"]), urlsplit(trio.info["valkey_url"])
    assert pooled.password
    assert cache.password
    anonymous = pooled._replace(netloc=f"{pooled.username}@{pooled.hostname}:{pooled.port}").geturl()
    with pytest.raises(asyncpg.PostgresError, match="authentication failed"):
        await asyncpg.connect(anonymous)
    stranger = valkey.Valkey(host=cache.hostname, port=cache.port)
    with pytest.raises(valkey.exceptions.AuthenticationError):
        stranger.set("rl:g:ip:203.0.113.9", "0")
    stranger.close()
    for secret in (trio.data_dir / "pgbouncer" / USERS_FILE, trio.data_dir / "valkey" / AUTH_FILE):
        assert secret.stat().st_mode & 0o777 == 0o600
    assert pooled.password not in (trio.data_dir / "pgbouncer" / USERS_FILE).read_text()
    async with httpx.AsyncClient() as client:  # the instances got in with them
        ready = (await client.get(f"{trio.base}/health/ready", timeout=5)).json()["checks"]
    assert (ready["database"], ready["cache"]) == ("ok", "ok")


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
