"""The read cache's figures: whole-system CPU and PostgreSQL transactions per request over a window,
cache-coherence's delays and stale reads, and how the tables and the target checks show them."""

from __future__ import annotations

from bench.goals import read_cache_checks
from bench.report import BARE, BARE_NO_DB, CACHE_OFF, COHERENCE_READS, GUIDES, SAME_WORK, STOREFRONT, Row, median_rows
from bench.staleness import Coherence, Read, Write, invalidation_delays, percentile, stale_reads
from bench.system import Reading, per_request, window_figures
from bench.tables import SYSTEM_CPU, ladder, read_cache_gain, scenario_table
from bench.wrk import WrkResult


def result(rps: float) -> WrkResult:
    return WrkResult(1000, 1.0, rps, 1.0, 5.0, 10.0, 20.0, 0, 0)


def test_window_figures_add_the_backing_services_and_take_out_the_benchs_own_transactions() -> None:
    before = Reading(server_cpu=10.0, backing_cpu=4.0, xacts=1_000, own_xacts=7)
    after = Reading(server_cpu=10.5, backing_cpu=4.25, xacts=1_012, own_xacts=9)
    # (0.5 s of the server + 0.25 s of PostgreSQL and Valkey) / 2,500 requests; 12 − 2 own transactions.
    assert window_figures(before, after, 2_500) == (300.0, 0.004)
    assert window_figures(before, after, 0) == (None, None)


def test_window_figures_are_unknown_without_the_processes_or_the_counts() -> None:
    unseen = Reading(server_cpu=1.0, backing_cpu=None, xacts=None, own_xacts=0)
    assert window_figures(unseen, unseen, 100) == (None, None)
    # The bench's own reads never make the servers' count negative.
    assert window_figures(Reading(0, 0, 10, 0), Reading(0, 0, 11, 2), 100)[1] == 0.0
    assert per_request(0.5, 2000) == 250.0
    assert per_request(3, 1000, scale=1.0, digits=4) == 0.003


def test_median_rows_keep_the_medians_of_the_new_figures() -> None:
    rounds = [
        {STOREFRONT: Row(STOREFRONT, result(rps), system_cpu_us=cpu, pg_xacts=xacts)}
        for rps, cpu, xacts in ((900, 300.0, 0.0001), (700, 360.0, 0.0004), (800, 320.0, 0.0002))
    ]
    merged = median_rows(rounds)[STOREFRONT]
    assert (merged.system_cpu_us, merged.pg_xacts) == (320.0, 0.0002)
    assert merged.as_dict()["system_cpu_us_per_request"] == 320.0
    assert merged.as_dict()["pg_xacts_per_request"] == 0.0002


def test_a_write_shows_once_a_read_is_answered_with_its_version_or_a_later_one() -> None:
    writes = [Write(answered=1.000, version=2), Write(answered=1.050, version=3), Write(answered=1.100, version=4)]
    reads = [
        Read(sent=0.999, answered=1.003, version=2),  # 3 ms after the first write's answer
        Read(sent=1.040, answered=1.045, version=3),  # before the second write's answer: 0
        Read(sent=1.200, answered=1.210, version=3),
    ]
    delays, unseen = invalidation_delays(writes, reads)
    assert [round(delay * 1000, 1) for delay in delays] == [3.0, 0.0]
    assert unseen == 1


def test_only_reads_sent_more_than_50_ms_after_a_write_must_show_it() -> None:
    writes = [Write(answered=1.000, version=2), Write(answered=2.000, version=3)]
    reads = [
        Read(sent=1.040, answered=1.041, version=1),  # 40 ms after: may still be old
        Read(sent=1.060, answered=1.061, version=1),  # 60 ms after: stale
        Read(sent=1.060, answered=1.061, version=2),
        Read(sent=2.100, answered=2.101, version=2),  # stale against the second write
        Read(sent=0.500, answered=0.501, version=1),  # before any write
    ]
    assert stale_reads(writes, reads) == 2
    assert stale_reads([], reads) == 0


def test_coherence_statistics_merge_rounds_and_read_as_one_line() -> None:
    one = Coherence.measure([Write(1.0, 2)], [Read(0.9, 1.002, 2)])
    two = Coherence(writes=3, reads=10, delays_ms=[1.0, 4.0, 30.0], unseen=0, stale=1)
    merged = Coherence.merge([one, two])
    assert (merged.writes, merged.reads, merged.stale) == (4, 11, 1)
    summary = merged.summary()
    assert (summary["delay_p50_ms"], summary["delay_max_ms"]) == (2.0, 30.0)
    assert "1 stale reads later than 50 ms" in merged.line()
    assert percentile([], 50) is None
    assert percentile([5.0, 1.0, 3.0, 2.0], 99) == 5.0
    assert Coherence().summary()["delay_p99_ms"] is None
    row = Row(COHERENCE_READS, result(1000), coherence=merged)
    assert row.as_dict()["coherence"]["stale_reads_after_50ms"] == 1
    assert "invalidation delay over 4 writes" in scenario_table("cache-coherence", {COHERENCE_READS: row})


def test_the_ladders_start_without_the_database_and_the_read_cache_gain_is_shown() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(6000), cpu_us=150.0, system_cpu_us=160.0, pg_xacts=0.0001),
        CACHE_OFF: Row(CACHE_OFF, result(4000), cpu_us=220.0, system_cpu_us=280.0, pg_xacts=1.0),
        BARE_NO_DB: Row(BARE_NO_DB, result(30000), cpu_us=30.0, system_cpu_us=31.0),
        BARE: Row(BARE, result(12000), cpu_us=80.0, system_cpu_us=120.0),
    }
    assert ladder(rows) == (
        "CPU µs/req: ceiling-bare-no-db 30 → ceiling-bare 80 (database +50) → storefront 150 (Storefront's own +70)"
    )
    assert ladder(rows, SYSTEM_CPU).endswith("ceiling-bare 120 (database +89) → storefront 160 (Storefront's own +40)")
    assert read_cache_gain(rows) == (
        "read cache: 1.50× the req/s of storefront-read-cache-off; workers' CPU 150 against 220 µs/req; "
        "whole-system CPU 160 against 280 µs/req; PostgreSQL 0.000 against 1.000 transactions/req"
    )
    assert read_cache_gain({STOREFRONT: rows[STOREFRONT]}) is None
    table = scenario_table("item-get", rows)
    assert "| PG xact/req |" in table
    assert "read cache: 1.50×" in table


def test_read_cache_checks_judge_the_gain_the_guides_the_system_cpu_the_database_and_staleness() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(6000), system_cpu_us=150.0, pg_xacts=0.002),
        CACHE_OFF: Row(CACHE_OFF, result(4000)),
        GUIDES: Row(GUIDES, result(1000)),
        SAME_WORK: Row(SAME_WORK, result(9000), system_cpu_us=170.0),
    }
    me = {STOREFRONT: Row(STOREFRONT, result(5000), pg_xacts=0.02), CACHE_OFF: Row(CACHE_OFF, result(4500))}
    coherent = {COHERENCE_READS: Row(COHERENCE_READS, result(1000), coherence=Coherence(stale=2))}
    checks = dict(read_cache_checks({"item-get": rows, "me": me, "cache-coherence": coherent}))
    assert checks == {
        "item-get: cached 1.50× READ_CACHE=off req/s (≥ 1.3×)": True,
        "item-get: cached 6.0× guides-stack req/s (≥ 7×)": False,
        "item-get: whole-system CPU 150 µs/req (≤ same-work ceiling's 170)": True,
        "item-get: PostgreSQL transactions in 0.20 % of requests (≤ 1 %)": True,
        "me: cached 1.11× READ_CACHE=off req/s (≥ 1.3×)": False,
        "me: PostgreSQL transactions in 2.00 % of requests (≤ 1 %)": False,
        "cache-coherence: 2 stale reads later than 50 ms after a write (0)": False,
    }
