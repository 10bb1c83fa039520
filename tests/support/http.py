"""Small HTTP helpers shared by the domain tests."""

from __future__ import annotations

import itertools
from typing import Any

from litestar.testing import AsyncTestClient

from storefront.accounts.bootstrap import ensure_admin

PASSWORD = "correct horse battery"
_counter = itertools.count()


def unique_email(prefix: str = "user") -> str:
    """A fresh email for this run."""
    return f"{prefix}{next(_counter)}@example.com"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an access token."""
    return {"Authorization": f"Bearer {token}"}


async def register(client: AsyncTestClient[Any], email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
    """Register a customer and return the created user."""
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email or unique_email(), "password": password, "full_name": "Test User"},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def login(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in with JSON and return the token pair."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def customer(client: AsyncTestClient[Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A new signed-in customer: (user, auth headers)."""
    user = await register(client)
    tokens = await login(client, user["email"])
    return user, bearer(tokens["access_token"])


async def admin(client: AsyncTestClient[Any], dsn: str) -> tuple[str, dict[str, str]]:
    """A new signed-in admin: (email, auth headers)."""
    email = unique_email("admin")
    await ensure_admin(dsn, email, PASSWORD)
    tokens = await login(client, email)
    return email, bearer(tokens["access_token"])


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of `status` and `type` `/problems/<slug>`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]
