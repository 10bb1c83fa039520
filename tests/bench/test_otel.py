"""`just bench --otel`: what it runs, the cost line it prints, and the sink the traced servers export to."""

from __future__ import annotations

import httpx
import pytest
from bench.options import parse_args, plan
from bench.otlp_sink import OtlpSink
from bench.report import OTEL_ALL, OTEL_RATIO, STOREFRONT, Row
from bench.tables import tracing_cost

from tests.bench.test_helpers import result


def test_the_tracing_bench_runs_storefront_three_ways_where_the_ceilings_run() -> None:
    options = parse_args(["--otel", "--quick"])
    assert options.scenarios == ("item-get", "item-list", "me", "order-create")
    assert plan(("item-get", "login"), otel=True) == [
        ("item-get", STOREFRONT),
        ("item-get", OTEL_ALL),
        ("item-get", OTEL_RATIO),
        ("login", STOREFRONT),
    ]
    with pytest.raises(SystemExit):
        parse_args(["--otel", "--pgbouncer"])


def test_the_tracing_cost_line_sets_each_sampling_against_tracing_off() -> None:
    rows = {
        STOREFRONT: Row(STOREFRONT, result(2000), round_rps=[2000, 1000], cpu_us=100.0),
        OTEL_ALL: Row(OTEL_ALL, result(1000), round_rps=[1000, 500], cpu_us=180.0),
        OTEL_RATIO: Row(OTEL_RATIO, result(1900), round_rps=[1900, 950], cpu_us=103.0),
    }
    assert tracing_cost(rows) == (
        "tracing, workers' CPU µs/req: off 100, 100 % 180 (+80 %, req/s 50 %), 1 % 103 (+3 %, req/s 95 %)"
    )
    assert tracing_cost({STOREFRONT: rows[STOREFRONT]}) is None


def test_the_sink_accepts_an_export_and_counts_it() -> None:
    sink = OtlpSink()
    try:
        response = httpx.post(f"{sink.url}/v1/traces", content=b"\x0a\x00", timeout=5)
        assert response.status_code == 200
        assert (sink.exports, sink.received_bytes) == (1, 2)
    finally:
        sink.stop()
