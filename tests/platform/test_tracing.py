"""Traces, end to end: a live app exporting to a real OTLP/HTTP receiver in the test process
(`tests/support/otlp.py`), and a worker with tracing off that never imports OpenTelemetry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from storefront.launch.nginx import config
from storefront.platform.settings import SettingsError, load_settings
from storefront.platform.telemetry import ATTRIBUTE_LENGTH
from tests.support.fixtures import MAIL_ENV
from tests.support.http import PASSWORD, admin, bearer, login
from tests.support.mail import Mailbox, token_in
from tests.support.otlp import Collector, Span
from tests.support.services import SRC, TEST_SECRET, Services, serving
from tests.support.shop import ORDERS, make_item, order_body, sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
PEER = "203.0.113.7"  # where `serving`'s requests come from
THEIR_TRACE, THEIR_SPAN = "ab" * 16, "cd" * 8
TRACEPARENT = f"00-{THEIR_TRACE}-{THEIR_SPAN}-01"


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    """The receiver; the SDK's batch processor sends every 50 ms instead of every 5 s."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    receiver = Collector()
    yield receiver
    receiver.stop()


def traced(collector: Collector, mailbox: Mailbox | None = None, **env: str) -> dict[str, str]:
    mail = {"SMTP_URL": mailbox.url, **MAIL_ENV} if mailbox else {}
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, **mail, **env}


def trace_of(response: httpx.Response) -> tuple[str, str]:
    """(trace id, span id) from a response's `traceresponse`."""
    version, trace_id, span_id, flags = response.headers["traceresponse"].split("-")
    assert version == "00"
    assert int(flags, 16) & 1  # sampled (0x02 says the trace id is random)
    return trace_id, span_id


def server_span(collector: Collector, response: httpx.Response) -> Span:
    trace_id, span_id = trace_of(response)
    (span,) = [s for s in collector.spans if (s.trace_id, s.span_id) == (trace_id, span_id)]
    assert span.kind == "server"
    return span


async def journey(client: httpx.AsyncClient, mailbox: Mailbox, dsn: str) -> dict[str, httpx.Response]:
    """register (with a trace of the caller's) → verify (token from the mail) → login → list items →
    order with an Idempotency-Key → read it back; each response by step."""
    steps: dict[str, httpx.Response] = {}
    body = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}
    steps["register"] = await client.post(f"{AUTH}/register", json=body, headers={"traceparent": TRACEPARENT})
    (message,) = await mailbox.wait_for(1)
    steps["verify"] = await client.post(f"{AUTH}/verify-email", json={"token": token_in(message)})
    _, admin_headers = await admin(client, dsn)
    item = await make_item(client, admin_headers)  # type: ignore[arg-type]
    headers = bearer((await login(client, "ada@example.com"))["access_token"])
    steps["items"] = await client.get("/api/v1/items")
    order_headers = {**headers, "Idempotency-Key": "trace-order-1"}
    steps["order"] = await client.post(ORDERS, json=order_body((item["id"], 1)), headers=order_headers)
    steps["read"] = await client.get(f"{ORDERS}/{steps['order'].json()['id']}", headers=headers)
    assert [r.status_code for r in steps.values()] == [202, 204, 200, 201, 200]
    return steps


async def test_a_customer_journey_is_traced_from_each_request_into_its_queries_hashes_valkey_and_mail(
    services: Services, mailbox: Mailbox, collector: Collector, capsys: pytest.CaptureFixture[str], clean: None
) -> None:
    async with serving(services, **traced(collector, mailbox, TRUSTED_PROXIES=PEER, LOG_LEVEL="INFO")) as client:
        steps = await journey(client, mailbox, services.database_url)
    # The app stopped: its provider has sent everything.
    assert set(collector.paths) == {"/v1/traces"}
    register = server_span(collector, steps["register"])
    # The caller's traceparent came from a trusted peer: continued, not replaced.
    assert (register.trace_id, register.parent) == (THEIR_TRACE, THEIR_SPAN)
    assert register.name == "POST /api/v1/auth/register"
    assert register.service == "storefront"
    assert register.attributes["http.route"] == "/api/v1/auth/register"
    assert register.attributes["http.response.status_code"] == 202
    assert register.attributes["storefront.request_id"] == steps["register"].headers["x-request-id"]
    below = {span.name: span for span in collector.children(register)}
    assert {"argon2 hash", "register", "carry_trace", "EVALSHA"} <= below.keys(), below.keys()
    assert below["register"].kind == "client"
    assert below["register"].attributes == {"db.system.name": "postgresql"}  # no SQL, no values
    assert below["EVALSHA"].attributes == {"db.system.name": "valkey"}  # no keys

    # The welcome mail's delivery continues the registration's trace, linked to its SMTP session.
    deliver = collector.one("deliver welcome")
    assert (deliver.trace_id, deliver.parent, deliver.kind) == (THEIR_TRACE, register.span_id, "consumer")
    session = collector.one("smtp session")
    assert session.parent == ""
    assert deliver.links == [(session.trace_id, session.span_id)]
    assert "mark_sent" in {span.name for span in collector.children(deliver)}

    for login_span in collector.named("POST /api/v1/auth/login"):  # the admin's and Ada's
        assert "argon2 verify" in {span.name for span in collector.children(login_span)}
    assert server_span(collector, steps["order"]).name == "POST /api/v1/orders"
    assert server_span(collector, steps["read"]).name == "GET /api/v1/orders/{order_id}"
    assert server_span(collector, steps["items"]).name == "GET /api/v1/items"
    assert server_span(collector, steps["verify"]).trace_id != THEIR_TRACE  # each request its own trace

    # The request's log line carries its trace.
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line.get("request_id") == steps["register"].headers["x-request-id"]]
    assert (access["trace_id"], access["span_id"]) == (THEIR_TRACE, register.span_id)


async def test_a_traceparent_from_an_untrusted_peer_starts_a_new_trace_and_unmatched_paths_keep_no_raw_path(
    services: Services, collector: Collector, clean: None
) -> None:
    async with serving(services, **traced(collector)) as client:
        continued = await client.get("/api/v1/items", headers={"traceparent": TRACEPARENT})
        missing = await client.get("/api/v1/no/such/path/12345")
    assert trace_of(continued)[0] != THEIR_TRACE
    assert server_span(collector, continued).parent == ""
    lost = server_span(collector, missing)
    assert (lost.name, lost.attributes["http.response.status_code"]) == ("GET", 404)
    assert "http.route" not in lost.attributes


async def test_a_request_the_sampler_leaves_out_exports_no_span_and_its_mail_carries_no_trace(
    services: Services, mailbox: Mailbox, collector: Collector, monkeypatch: pytest.MonkeyPatch, clean: None
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0")
    async with serving(services, **traced(collector, mailbox)) as client:
        body = {"email": "bo@example.com", "password": PASSWORD, "full_name": "Bo"}
        response = await client.post(f"{AUTH}/register", json=body)
        await mailbox.wait_for(1)
    assert response.headers["traceresponse"].endswith("-00") or response.headers["traceresponse"].endswith("-02")
    assert [span.name for span in collector.spans if span.kind == "server" or span.parent] == []
    assert await sql(services.database_url, "SELECT trace_parent FROM outbox") == [(None,)]


async def test_a_malformed_traceparent_or_a_long_path_costs_a_new_trace_and_a_capped_attribute(
    services: Services, collector: Collector, clean: None
) -> None:
    async with serving(services, **traced(collector, TRUSTED_PROXIES=PEER)) as client:
        bad = await client.get("/api/v1/items", headers={"traceparent": "00-zz-not-a-context-01"})
        long = await client.get("/api/v1/" + "a" * 20_000)
    assert bad.status_code == 200
    assert server_span(collector, bad).parent == ""  # trusted peer, unreadable context: a new trace
    assert long.status_code == 404
    assert len(server_span(collector, long).attributes["url.path"]) == ATTRIBUTE_LENGTH


def test_an_endpoint_that_is_not_an_http_url_stops_the_start_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL"):
        load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://collector:4317", "SECRET_KEY": TEST_SECRET}, dotenv=None)


WORKER = """
import json, sys, uuid, anyio
from litestar.testing import AsyncTestClient
from storefront.app import create_app

async def main():
    async with AsyncTestClient(app=create_app()) as client:
        assert (await client.get("/api/v1/items")).status_code == 200
        login = {"email": f"{uuid.uuid4().hex}@example.com", "password": "a long enough passphrase"}
        assert (await client.post("/api/v1/auth/register", json={**login, "full_name": "Ada"})).status_code == 202
        assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200

anyio.run(main)
print(json.dumps(sorted(sys.modules)))
"""


def worker_modules(services: Services, **env: str) -> list[str]:
    """The modules a worker has loaded after serving a read, a registration and a login."""
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": SRC,
        "ENVIRONMENT": "test",
        "DATABASE_URL": services.database_url,
        "VALKEY_URL": services.valkey_url,
        "SECRET_KEY": TEST_SECRET,
        "DATA_DIR": str(services.root / "data"),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    done = subprocess.run([sys.executable, "-c", WORKER], env=environ, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    modules: Any = json.loads(done.stdout.splitlines()[-1])
    return [name for name in modules if name.split(".")[0] == "opentelemetry"]


def test_with_tracing_off_a_worker_imports_no_opentelemetry_module(services: Services) -> None:
    assert worker_modules(services) == []
    # The check can see them: with tracing on, the same worker has loaded the SDK.
    assert "opentelemetry.sdk.trace" in worker_modules(services, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")


def test_the_clusters_nginx_does_not_pass_a_clients_trace_context_on_as_its_own(tmp_path: Any) -> None:
    rendered = config(tmp_path, "127.0.0.1:8080", ["127.0.0.1:8001"], header_timeout=10)
    assert 'proxy_set_header traceparent "";' in rendered
    assert 'proxy_set_header tracestate "";' in rendered
