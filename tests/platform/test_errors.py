"""Problem+json for the framework's own errors and the request-id / access-log contract."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from storefront.app import create_app
from tests.support.http import assert_problem
from tests.support.services import Services, make_settings, serving

pytestmark = pytest.mark.anyio


async def test_unknown_path_is_a_404_problem(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/nope")
    assert_problem(response, 404, "not-found")


async def test_wrong_method_is_a_405_problem_with_allow(client: AsyncTestClient[Any]) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_request_id_is_echoed_when_sane(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "tab\there"])
async def test_insane_request_id_is_replaced(client: AsyncTestClient[Any], bad: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": bad})
    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


async def test_malformed_json_is_400(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed-request")


async def test_non_json_body_is_415(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/v1/auth/register", content=b"email=a", headers={"Content-Type": "text/plain"})
    assert_problem(response, 415, "unsupported-media-type")


async def test_missing_body_is_400(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/v1/auth/register", headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "malformed-request")


async def test_body_over_one_mib_is_413(client: AsyncTestClient[Any]) -> None:
    big = json.dumps({"email": "a@b.co", "password": "x" * 1_100_000, "full_name": "A"})
    response = await client.post("/api/v1/auth/register", content=big, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "payload-too-large")


async def test_string_for_an_integer_is_422_with_field(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "a@example.com", "password": 12345678, "full_name": "A"}
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "password"


async def test_unknown_field_is_422(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.com", "password": "long enough", "full_name": "A", "role": "admin"},
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [{"field": "role", "message": "Object contains unknown field `role`"}]


async def test_bad_query_parameter_is_422_naming_it(client: AsyncTestClient[Any], services: Any) -> None:
    from tests.support.http import admin

    _, headers = await admin(client, services.database_url)
    response = await client.get("/api/v1/users?limit=abc", headers=headers)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "limit"


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/missing", 404), ("PUT", "/health", 405)])
async def test_router_errors_are_logged_once_with_request_id(
    services: Services, clean: None, capsys: pytest.CaptureFixture[str], method: str, path: str, status: int
) -> None:
    async with AsyncTestClient(app=create_app(make_settings(services, LOG_LEVEL="INFO"))) as client:
        capsys.readouterr()
        response = await client.request(method, path, headers={"X-Request-ID": "trace-me", "Authorization": "secret"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"storefront.access"' in line]
    assert len(lines) == 1
    assert lines[0]["request_id"] == "trace-me"
    assert lines[0]["status"] == status == response.status_code
    assert lines[0]["route"] == "<unmatched>"
    assert lines[0]["level"] == "INFO"
    assert "secret" not in json.dumps(lines[0])


async def test_unknown_methods_share_one_metrics_label(client: AsyncTestClient[Any]) -> None:
    for method in ("BREW", "FROB"):
        assert_problem(await client.request(method, "/health"), 405, "method-not-allowed")
    text = (await client.get("/metrics")).text
    assert 'method="OTHER",path="<unmatched>",status_code="405"' in text
    assert 'method="BREW"' not in text


async def test_the_access_line_names_the_client_a_trusted_proxy_forwarded_for(
    services: Services, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Behind nginx every access line named nginx's address (found by the cluster tests)."""
    env = {"LOG_LEVEL": "INFO", "TRUSTED_PROXIES": "10.0.0.2"}
    async with serving(services, address="10.0.0.2", **env) as proxied, serving(services, **env) as direct:
        capsys.readouterr()
        await proxied.get("/health", headers={"X-Forwarded-For": "198.51.100.1, 192.0.2.9"})
        await direct.get("/health", headers={"X-Forwarded-For": "192.0.2.10"})
        await asyncio.sleep(0.05)  # access lines are written once per loop pass
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"storefront.access"' in line]
    assert [line["client"] for line in lines] == ["192.0.2.9", "203.0.113.7"]
