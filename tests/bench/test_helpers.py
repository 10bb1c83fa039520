"""The bench's pure helpers: wrk output, shares and checks, the run plan, the CPU ladder and the
scaling and PgBouncer tables (its references are checked in test_references.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bench.goals import target_checks
from bench.options import STORM, TRICKLE, parse_args, plan
from bench.report import (
    ASGI_SAME_WORK,
    BARE,
    BARE_NO_DB,
    CACHE_OFF,
    COHERENCE_READS,
    FLOOR,
    GUIDES,
    PGBOUNCER,
    SAME_WORK,
    STOREFRONT,
    UNCACHED,
    Row,
    ceiling_shares,
    guides_factor,
    median_rows,
)
from bench.rounds import cpu_per_request
from bench.scaling import scaling_table
from bench.tables import ladder, pgbouncer_cost, summary_table
from bench.wrk import Load, WrkFailed, WrkResult, command, parse_result

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-bench-test-secret-that-is-long-enough-0123456789"
LINE = (
    'BENCH_RESULT {"requests":5000,"duration_us":2000000,"bytes":1,"connect":0,"read":1,"write":0,'
    '"timeout":2,"status":3,"p50_us":1500,"p95_us":4000,"p99_us":9000,"max_us":20000,"mean_us":1800.0}'
)


def result(rps: float, p99: float = 10.0, errors: int = 0) -> WrkResult:
    return WrkResult(1000, 1.0, rps, 1.0, 5.0, p99, 20.0, 0, errors)


def test_parse_result_reads_the_done_line() -> None:
    parsed = parse_result("Running 2s test\n" + LINE + "\n")
    assert parsed.requests == 5000
    assert parsed.rps == 2500.0
    assert (parsed.p50_ms, parsed.p99_ms, parsed.max_ms) == (1.5, 9.0, 20.0)
    assert parsed.socket_errors == 3
    assert parsed.non_2xx == 3
    assert parsed.errors == 6


def test_parse_result_without_the_line_fails() -> None:
    with pytest.raises(WrkFailed):
        parse_result("unable to connect to 127.0.0.1:1")


def test_shares_are_percentages_of_each_ceiling() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(850)),
        BARE: Row(BARE, result(1000)),
        SAME_WORK: Row(SAME_WORK, result(900)),
    }
    assert ceiling_shares(rows) == {BARE: 85.0, SAME_WORK: 94.4}
    assert ceiling_shares({STOREFRONT: Row(STOREFRONT, result(10))}) == {BARE: None, SAME_WORK: None}


def test_shares_of_several_rounds_are_the_median_of_each_rounds_share() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(800), round_rps=[800, 400, 900]),
        BARE: Row(BARE, result(1000), round_rps=[1000, 800, 1000]),
        SAME_WORK: Row(SAME_WORK, result(900), round_rps=[900, 500, 1000]),
    }
    assert ceiling_shares(rows) == {BARE: 80.0, SAME_WORK: 88.9}


def test_target_checks_judge_shares_storm_rss_and_errors() -> None:
    results = {
        "item-get": {
            STOREFRONT: Row(STOREFRONT, result(700, p99=10.0), [100.0, 120.0]),
            BARE: Row(BARE, result(1000)),
            SAME_WORK: Row(SAME_WORK, result(800)),
        },
        "read-during-logins": {
            STOREFRONT: Row(STOREFRONT, result(500, p99=25.0), [160.0]),
            STORM: Row(STORM, result(5, errors=1)),
        },
        "popular-under-orders": {
            STOREFRONT: Row(STOREFRONT, result(2000, p99=9.5), [70.0]),
            TRICKLE: Row(TRICKLE, result(19)),
        },
    }
    checks = dict(target_checks(results))
    assert checks["item-get: 87.5 % of same-work (≥ 85 %)"] is True
    assert checks["item-get: 70.0 % of bare (≥ 65 %)"] is True
    assert checks["read-during-logins: item-get p99 25.00 ms (≤ 2 × 10.00 = 20.00 ms)"] is False
    assert checks["RSS per worker: max 160 MiB (≤ 150 MiB)"] is False
    assert checks["popular-under-orders: p99 9.50 ms (≤ 10 ms)"] is True
    assert checks["errors: 1 in total (0)"] is False
    assert "read-during-logins (logins)" in summary_table(results)
    assert "popular-under-orders (orders)" in summary_table(results)


def test_median_rows_keep_every_rounds_errors() -> None:
    rounds = [
        {STOREFRONT: Row(STOREFRONT, result(900), [60.0])},
        {STOREFRONT: Row(STOREFRONT, result(700, errors=2), [70.0])},
        {STOREFRONT: Row(STOREFRONT, result(800), [65.0])},
    ]
    merged = median_rows(rounds)[STOREFRONT]
    assert merged.result.rps == 800
    assert merged.result.errors == 2
    assert merged.rss_mib == [70.0]
    assert merged.round_rps == [900, 700, 800]


def test_cpu_per_request_is_the_median_of_the_rounds() -> None:
    assert cpu_per_request(0.5, 2000) == 250.0
    assert cpu_per_request(0.5, 0) is None
    rounds = [
        {STOREFRONT: Row(STOREFRONT, result(rps), cpu_us=cpu)}
        for rps, cpu in ((900, 300.0), (700, 360.0), (800, 320.0))
    ]
    merged = median_rows(rounds)[STOREFRONT]
    assert merged.cpu_us == 320.0
    assert merged.as_dict()["cpu_us_per_request"] == 320.0
    assert "CPU µs/req" in summary_table({"item-get": {STOREFRONT: merged}})


def test_plan_runs_references_only_where_they_serve() -> None:
    assert plan(("item-get", "order-create", "login", "cache-coherence")) == [
        ("item-get", STOREFRONT),
        ("item-get", CACHE_OFF),
        ("item-get", FLOOR),
        ("item-get", BARE_NO_DB),
        ("item-get", BARE),
        ("item-get", SAME_WORK),
        ("item-get", ASGI_SAME_WORK),
        ("item-get", GUIDES),
        ("order-create", STOREFRONT),
        ("order-create", CACHE_OFF),  # a write waits for its own invalidations: shown beside none
        ("order-create", FLOOR),
        ("order-create", BARE),
        ("order-create", SAME_WORK),
        ("login", STOREFRONT),
        ("cache-coherence", COHERENCE_READS),
    ]
    assert [name for name, target in plan(parse_args([]).scenarios) if target == GUIDES] == [
        "item-get",
        "item-list",
        "me",
    ]


def test_guides_factor_is_the_median_of_each_rounds_ratio() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(2400), round_rps=[2400, 1200, 3000]),
        GUIDES: Row(GUIDES, result(400), round_rps=[400, 300, 400]),
    }
    assert guides_factor(rows) == 6.0
    assert guides_factor({STOREFRONT: Row(STOREFRONT, result(1000)), GUIDES: Row(GUIDES, result(200))}) == 5.0
    assert guides_factor({STOREFRONT: rows[STOREFRONT]}) is None
    checks = dict(target_checks({"item-get": rows, "order-create": {**rows}}))
    assert checks["item-get: storefront 6.0× guides-stack req/s (≥ 6×)"] is True
    assert not any(text.startswith("order-create: storefront") for text in checks)
    assert "| 6.0×" in summary_table({"item-get": rows})
    assert "× guides" in summary_table({"login": {STOREFRONT: rows[STOREFRONT]}})


def test_the_ladder_gives_each_layer_its_cpu() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(500), cpu_us=300.0),
        FLOOR: Row(FLOOR, result(700), cpu_us=220.0),
        BARE: Row(BARE, result(1000), cpu_us=120.0),
        SAME_WORK: Row(SAME_WORK, result(900), cpu_us=170.0),
        ASGI_SAME_WORK: Row(ASGI_SAME_WORK, result(800), cpu_us=200.0),
    }
    assert ladder(rows) == (
        "CPU µs/req: ceiling-bare 120 → ceiling-same-work 170 (features +50) → asgi-same-work 200 (ASGI +30) → "
        "framework-floor 220 (Litestar +20) → storefront 300 (Storefront's own +80)"
    )
    assert ladder({STOREFRONT: rows[STOREFRONT]}) is None


def test_wrk_command_passes_script_arguments() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    script = Path("order-trickle.lua")
    plain = command("http://h", script, Load(3, 2))
    assert plain[-3:] == ["-s", "order-trickle.lua", "http://h"]
    paced = command("http://h", script, Load(3, 2, script_args=("100",)))
    assert paced[-3:] == ["http://h", "--", "100"]


def test_options_defaults_and_quick() -> None:
    full = parse_args([])
    assert (full.duration, full.connections, full.workers, full.threads, full.rounds) == (10.0, 32, 1, 1, 1)
    assert full.scenarios[0] == "item-get"
    assert "popular-under-orders" in full.scenarios
    assert full.popular_connections == 4
    quick = parse_args(["--quick", "--workers", "2", "--scenario", "me", "item-get"])
    assert (quick.duration, quick.workers, quick.scenarios) == (3.0, 2, ("item-get", "me"))
    with pytest.raises(SystemExit):
        parse_args(["--scenario", "nope"])


def test_the_pgbouncer_comparison_runs_storefront_three_ways() -> None:
    assert plan(("item-get", "login"), pgbouncer=True) == [
        ("item-get", STOREFRONT),
        ("item-get", PGBOUNCER),
        ("item-get", UNCACHED),
        ("login", STOREFRONT),
    ]
    rows = {
        STOREFRONT: Row(STOREFRONT, result(2000), round_rps=[2000, 1000], cpu_us=300.0),
        PGBOUNCER: Row(PGBOUNCER, result(1000), round_rps=[1000, 500], cpu_us=450.0, pooler_cpu_us=120.0),
        UNCACHED: Row(UNCACHED, result(1500), round_rps=[1500, 750], cpu_us=400.0),
    }
    assert pgbouncer_cost(rows) == (
        "through PgBouncer: 50 % of the direct connection's req/s (direct without the statement cache: 75 %); "
        "workers' CPU 450 µs/req against 300 (+50 %), plus PgBouncer's own 120 µs/req"
    )
    assert pgbouncer_cost({STOREFRONT: rows[STOREFRONT]}) is None


def test_instances_measure_fleets_of_one_to_n_beside_the_ceilings() -> None:
    options = parse_args(["--instances", "3", "--quick"])
    assert (options.instances, options.scenarios) == (3, ("item-get",))
    with pytest.raises(SystemExit):
        parse_args(["--instances", "2", "--scenario", "login"])
    table = {
        "item-get": [
            {"instances": n, kind: {"rps": rps, "times_one": rps / 1000, "cpu_us_per_request": 400.0, "errors": 0}}
            | {"ceiling": {"rps": 4000.0, "times_one": 1.0, "cpu_us_per_request": 200.0, "errors": 0}}
            for n, kind, rps in ((1, "storefront", 1000.0), (2, "storefront", 1100.0))
        ]
    }
    text = scaling_table(table, cores=2)
    assert "| item-get | 2         | 1,100            | 1.10× |" in text
    assert "on 2 cores there is no room to grow" in text
    assert "no room" not in scaling_table(table, cores=16)
