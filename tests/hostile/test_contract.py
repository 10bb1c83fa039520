"""The HTTP contract tells the truth: HEAD and OPTIONS on every route, the security headers, CORS
refusals as problems, /metrics off in production without a token."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from storefront.accounts.schemas import EMAIL_PATTERN
from storefront.app import create_app
from storefront.web.openapi import DOCS_ASSETS_DIR
from tests.support.http import assert_problem
from tests.support.services import Services, make_settings

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("path", ["/health", "/health/ready", "/api/v1/items", "/openapi.json"])
async def test_head_answers_like_get_without_a_body(client: AsyncTestClient[Any], path: str) -> None:
    get = await client.get(path)
    head = await client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_head_where_get_is_refused_answers_as_get_would(client: AsyncTestClient[Any]) -> None:
    assert (await client.head("/api/v1/users/me")).status_code == 401
    assert (await client.head("/api/v1/auth/login")).status_code == 405


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/items", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/users/me", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/api/v1/orders", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/items/0b7c7c7c-0000-4000-8000-000000000000", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/api/v1/auth/login", "OPTIONS, POST"),
        ("/health", "GET, HEAD, OPTIONS"),
    ],
)
async def test_options_lists_every_method_of_the_path(client: AsyncTestClient[Any], path: str, allow: str) -> None:
    response = await client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow
    assert response.content == b""


async def test_options_on_an_unknown_path_is_404(client: AsyncTestClient[Any]) -> None:
    assert_problem(await client.options("/nowhere"), 404, "not-found")


@pytest.mark.parametrize("path", ["/health", "/nowhere", "/api/v1/users/me", "/openapi.json"])
async def test_every_response_says_nosniff(client: AsyncTestClient[Any], path: str) -> None:
    assert (await client.get(path)).headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/docs", "/redoc", "//docs", "//redoc", "/docs/", "///docs//", "/%64ocs", "//docs/oauth2-redirect.html"]
)
async def test_docs_may_not_be_framed(client: AsyncTestClient[Any], path: str) -> None:
    request = client.build_request("GET", "/")
    request.url = request.url.copy_with(raw_path=path.encode())  # as sent: no client-side normalising
    response = await client.send(request)
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_a_preflight_from_a_disallowed_origin_is_a_403_problem(services: Services, clean: None) -> None:
    settings = make_settings(services, CORS_ORIGINS="https://shop.example")
    async with AsyncTestClient(app=create_app(settings)) as client:
        preflight = await client.options(
            "/api/v1/items", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert_problem(preflight, 403, "forbidden")
        assert "access-control-allow-origin" not in preflight.headers
        plain = await client.options("/api/v1/items")
        assert (plain.status_code, plain.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")


async def test_metrics_are_off_in_production_without_a_token(services: Services, clean: None) -> None:
    settings = make_settings(services, ENVIRONMENT="production", MAIL_DISABLED="true")
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert_problem(await client.get("/metrics"), 404, "not-found")
    token = "scrape-me-" + "x" * 22  # production takes 32 bytes or more
    settings = make_settings(services, ENVIRONMENT="production", MAIL_DISABLED="true", METRICS_TOKEN=token)
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_load_only_storefronts_own_assets(client: AsyncTestClient[Any], page: str) -> None:
    html = (await client.get(page)).text
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert links
    assert [link for link in links if not link.startswith("/docs/assets/")] == []
    for link in links:
        asset = await client.get(link)
        assert asset.status_code == 200, link
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css", "image/png"), link
    assert "fonts.googleapis" not in html


def test_vendored_docs_assets_are_the_ones_recorded() -> None:
    assets = DOCS_ASSETS_DIR
    for line in (assets / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((assets / name).read_bytes()).hexdigest() == digest, name


async def test_request_schemas_say_what_the_decoder_enforces(client: AsyncTestClient[Any]) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("RegisterIn", "LoginIn", "ItemCreate", "ItemUpdate", "OrderIn", "OrderLineIn", "ProfileUpdate"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["ItemUpdate"]["properties"]["price_cents"]["minimum"] == 0
    assert schemas["ItemCreate"]["properties"]["stock"]["minimum"] == 0
    assert schemas["RegisterIn"]["properties"]["full_name"]["maxLength"] == 100


async def test_registration_documents_one_answer_and_orders_the_verified_email_rule(
    client: AsyncTestClient[Any],
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    register = paths["/api/v1/auth/register"]["post"]["responses"]
    assert "202" in register
    assert not {"201", "409"} & register.keys()  # one answer whether or not the email is taken
    assert "Location" not in register["202"].get("headers", {})
    assert "403" in paths["/api/v1/orders"]["post"]["responses"]
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name, field in (("RegisterIn", "email"), ("LoginIn", "email"), ("PasswordResetIn", "email")):
        email = schemas[name]["properties"][field]
        assert (email["maxLength"], email["pattern"]) == (254, EMAIL_PATTERN), name
