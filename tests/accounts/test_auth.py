"""Register, login, rotation, reuse detection and revocation, through the HTTP surface."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from storefront.accounts import service
from storefront.accounts.security import hash_password
from storefront.accounts.service import REGISTER_ACCEPTED
from tests.support.http import PASSWORD, assert_problem, bearer, login, register, unique_email
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"


async def test_register_answers_202_and_creates_the_user(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        f"{AUTH}/register", json={"email": "  Ada@Example.COM ", "password": PASSWORD, "full_name": "  Ada  "}
    )
    assert response.status_code == 202
    assert response.json() == {"detail": REGISTER_ACCEPTED.detail}
    assert "location" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    me = await client.get(ME, headers=bearer((await login(client, "ada@example.com"))["access_token"]))
    user = me.json()
    assert set(user) == {"id", "email", "email_verified", "full_name", "role", "is_active", "created_at", "updated_at"}
    assert (user["email"], user["full_name"], user["role"], user["is_active"], user["email_verified"]) == (
        "ada@example.com",
        "Ada",
        "customer",
        True,
        False,
    )


def _visible(response: Any) -> tuple[int, bytes, dict[str, str]]:
    """What a client sees of a response, less what differs per request (id, date, timing)."""
    per_request = {"x-request-id", "date", "server-timing"}
    return response.status_code, response.content, {k: v for k, v in response.headers.items() if k not in per_request}


async def test_a_taken_email_gets_the_same_answer_and_changes_nothing(
    client: AsyncTestClient[Any], services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS V6.3.8: registration does not tell who has an account (case-insensitively either)."""
    hashed: list[str] = []

    async def counted(password: str) -> str:
        hashed.append(password)
        return await hash_password(password)

    monkeypatch.setattr(service, "hash_password", counted)
    new = await client.post(
        f"{AUTH}/register", json={"email": "dup@example.com", "password": PASSWORD, "full_name": "A"}
    )
    taken = await client.post(
        f"{AUTH}/register", json={"email": "DUP@example.com", "password": "another password", "full_name": "B"}
    )
    assert _visible(taken) == _visible(new)
    assert len(hashed) == 2  # the same argon2 work on both paths
    rows = await sql(services.database_url, "SELECT full_name FROM users")
    assert [row["full_name"] for row in rows] == ["A"]
    await login(client, "dup@example.com")  # the owner's password still works, the other one does not
    wrong = await client.post(f"{AUTH}/login", json={"email": "dup@example.com", "password": "another password"})
    assert_problem(wrong, 401, "unauthenticated")


async def test_register_with_role_is_422_and_creates_nothing(client: AsyncTestClient[Any], services: Any) -> None:
    response = await client.post(
        f"{AUTH}/register",
        json={"email": "sneaky@example.com", "password": PASSWORD, "full_name": "S", "role": "admin"},
    )
    assert_problem(response, 422, "validation-error")
    connection = await asyncpg.connect(services.database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await connection.close()


@pytest.mark.parametrize("password", ["x" * 7, "x" * 129])
async def test_password_length_limits(client: AsyncTestClient[Any], password: str) -> None:
    response = await client.post(
        f"{AUTH}/register", json={"email": unique_email(), "password": password, "full_name": "A"}
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "password"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_full_name_limits_after_trimming(client: AsyncTestClient[Any], name: str) -> None:
    response = await client.post(
        f"{AUTH}/register", json={"email": unique_email(), "password": PASSWORD, "full_name": name}
    )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "full_name"


async def test_unicode_password_round_trip(client: AsyncTestClient[Any]) -> None:
    password = "pässwörd 🔐 密码 " + "é" * 100
    user = await register(client, password=password)
    tokens = await login(client, user["email"], password)
    assert tokens["token_type"] == "bearer"
    response = await client.post(f"{AUTH}/login", json={"email": user["email"], "password": password[:-1]})
    assert_problem(response, 401, "unauthenticated")


async def test_email_is_case_insensitive_at_login(client: AsyncTestClient[Any]) -> None:
    await register(client, "mixed@example.com")
    tokens = await login(client, "  MIXED@Example.com")
    assert tokens["expires_in"] == 900


async def test_unknown_email_and_wrong_password_get_the_same_401(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    wrong = await client.post(f"{AUTH}/login", json={"email": user["email"], "password": "wrong password"})
    unknown = await client.post(f"{AUTH}/login", json={"email": "nobody@example.com", "password": "wrong password"})
    first, second = assert_problem(wrong, 401, "unauthenticated"), assert_problem(unknown, 401, "unauthenticated")
    assert {k: v for k, v in first.items() if k != "request_id"} == {
        k: v for k, v in second.items() if k != "request_id"
    }
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]


async def test_login_with_the_oauth2_form(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    response = await client.post(
        f"{AUTH}/login",
        data={"grant_type": "password", "username": user["email"], "password": PASSWORD, "scope": ""},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    bad = await client.post(f"{AUTH}/login", data={"username": user["email"], "password": PASSWORD, "x": "1"})
    assert_problem(bad, 422, "validation-error")


async def test_refresh_rotates_and_reuse_revokes_the_family(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    first = await login(client, user["email"])
    rotated = await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=bearer(second["access_token"]))).status_code == 200

    reuse = await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(reuse, 401, "unauthenticated")
    # The whole family is gone: the newest refresh token and every access token of the session.
    assert_problem(
        await client.post(f"{AUTH}/refresh", json={"refresh_token": second["refresh_token"]}), 401, "unauthenticated"
    )
    assert_problem(await client.get(ME, headers=bearer(second["access_token"])), 401, "unauthenticated")
    assert_problem(await client.get(ME, headers=bearer(first["access_token"])), 401, "unauthenticated")


async def test_other_sessions_survive_a_reuse_revocation(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    stolen, other = await login(client, user["email"]), await login(client, user["email"])
    await client.post(f"{AUTH}/refresh", json={"refresh_token": stolen["refresh_token"]})
    await client.post(f"{AUTH}/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200


async def test_logout_revokes_the_session_at_once(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    tokens, other = await login(client, user["email"]), await login(client, user["email"])
    response = await client.post(
        f"{AUTH}/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 204
    assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401, "unauthenticated")
    assert_problem(
        await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}), 401, "unauthenticated"
    )
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200


async def test_unknown_refresh_token_is_401(client: AsyncTestClient[Any]) -> None:
    response = await client.post(f"{AUTH}/refresh", json={"refresh_token": "not-a-token"})
    assert_problem(response, 401, "unauthenticated")


async def test_documented_full_name_limit_is_the_enforced_one(client: AsyncTestClient[Any]) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    documented = {
        name: schema["properties"]["full_name"]["maxLength"]
        for name, schema in schemas.items()
        if "full_name" in schema.get("properties", {}) and "maxLength" in schema["properties"]["full_name"]
    }
    assert len(documented) >= 3  # register, profile update, admin update
    assert set(documented.values()) == {100}
    name = "x" * 100
    user = await register(client, full_name=name)
    assert user["full_name"] == name
