"""Small HTTP helpers shared by the domain tests."""

from __future__ import annotations

import itertools
from typing import Any

from tools.services import mark_verified

from storefront.accounts.bootstrap import ensure_admin

PASSWORD = "correct horse battery"
_counter = itertools.count()


def unique_email(prefix: str = "user") -> str:
    """A fresh email for this run."""
    return f"{prefix}{next(_counter)}@example.com"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an access token."""
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: Any, email: str | None = None, password: str = PASSWORD, full_name: str = "Test User"
) -> dict[str, Any]:
    """Register a customer and return the created user (read back from `/users/me`: registration
    itself answers 202 with no user, whether or not the email was taken). The session that read it
    is ended, so the account has none."""
    user, tokens = await _register(client, email, password, full_name)
    logout = {"refresh_token": tokens["refresh_token"]}
    response = await client.post("/api/v1/auth/logout", json=logout, headers=bearer(tokens["access_token"]))
    assert response.status_code == 204, response.text
    return user


async def _register(
    client: Any, email: str | None, password: str = PASSWORD, full_name: str = "Test User"
) -> tuple[dict[str, Any], dict[str, str]]:
    """Register, sign in and read `/users/me`: (user, token pair)."""
    email = email or unique_email()
    body = {"email": email, "password": password, "full_name": full_name}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 202, response.text
    tokens = await login(client, email, password)
    me = await client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    return me.json(), tokens


async def login(client: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in with JSON and return the token pair."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def customer(client: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """A new signed-in customer whose email is not verified yet: (user, auth headers)."""
    user, tokens = await _register(client, None)
    return user, bearer(tokens["access_token"])


async def verified_customer(client: Any, dsn: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A new signed-in customer with a verified email, who may place orders: (user, auth headers)."""
    user, tokens = await _register(client, None)
    await mark_verified(dsn, user["email"])
    return {**user, "email_verified": True}, bearer(tokens["access_token"])


async def admin(client: Any, dsn: str) -> tuple[str, dict[str, str]]:
    """A new signed-in admin with a verified email: (email, auth headers)."""
    email = unique_email("admin")
    await ensure_admin(dsn, email, PASSWORD)
    await mark_verified(dsn, email)
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


async def signed_in(client: Any, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Auth headers of a new session of `email`."""
    return bearer((await login(client, email, password))["access_token"])
