"""Profile, password change, deletion, roles and admin user management."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.http import PASSWORD, admin, assert_problem, bearer, customer, login, register, unique_email
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
USERS = "/api/v1/users"
ME = f"{USERS}/me"


async def _delete_me(client: AsyncTestClient[Any], headers: dict[str, str], password: str = PASSWORD) -> Any:
    return await client.request("DELETE", ME, json={"current_password": password}, headers=headers)


async def test_me_is_the_caller_pre_encoded_with_its_headers(client: AsyncTestClient[Any]) -> None:
    user, headers = await customer(client)
    response = await client.get(ME, headers=headers)
    assert response.status_code == 200
    assert response.json() == user
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"  # the route's own header survives `Encoded`
    assert int(response.headers["content-length"]) == len(response.content)
    schema = (await client.get("/openapi.json")).json()["paths"][ME]["get"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UserOut"}


async def test_update_name_and_email_with_current_password(client: AsyncTestClient[Any]) -> None:
    user, headers = await customer(client)
    response = await client.patch(ME, json={"full_name": " New Name "}, headers=headers)
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    no_password = await client.patch(ME, json={"email": "new@example.com"}, headers=headers)
    assert assert_problem(no_password, 422, "validation-error")["errors"][0]["field"] == "current_password"
    wrong = await client.patch(
        ME, json={"email": "new@example.com", "current_password": "wrong password"}, headers=headers
    )
    assert assert_problem(wrong, 422, "validation-error")["errors"][0]["field"] == "current_password"
    ok = await client.patch(ME, json={"email": "New@Example.com", "current_password": PASSWORD}, headers=headers)
    assert ok.json()["email"] == "new@example.com"
    await login(client, "new@example.com")


async def test_email_change_to_a_taken_email_is_409(client: AsyncTestClient[Any]) -> None:
    taken = await register(client)
    _, headers = await customer(client)
    response = await client.patch(ME, json={"email": taken["email"], "current_password": PASSWORD}, headers=headers)
    assert_problem(response, 409, "conflict")


async def test_password_change_revokes_other_sessions_and_keeps_this_one(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    mine, other = await login(client, user["email"]), await login(client, user["email"])
    wrong = await client.post(
        f"{ME}/password",
        json={"current_password": "not it at all", "new_password": "brand new password"},
        headers=bearer(mine["access_token"]),
    )
    assert assert_problem(wrong, 422, "validation-error")["errors"][0]["field"] == "current_password"
    response = await client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": "brand new password"},
        headers=bearer(mine["access_token"]),
    )
    assert response.status_code == 204
    assert (await client.get(ME, headers=bearer(mine["access_token"]))).status_code == 200
    assert_problem(await client.get(ME, headers=bearer(other["access_token"])), 401, "unauthenticated")
    await login(client, user["email"], "brand new password")


async def test_deleted_user_token_is_401_and_email_stays_reserved(client: AsyncTestClient[Any], services: Any) -> None:
    user, headers = await customer(client)
    assert (await _delete_me(client, headers)).status_code == 204
    assert_problem(await client.get(ME, headers=headers), 401, "unauthenticated")
    again = await client.post(
        "/api/v1/auth/register", json={"email": user["email"], "password": PASSWORD, "full_name": "X"}
    )
    assert again.status_code == 202  # as for any address: registration tells nothing
    assert len(await sql(services.database_url, "SELECT 1 FROM users")) == 1
    failed = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert_problem(failed, 401, "unauthenticated")


async def test_deleting_yourself_needs_the_current_password(client: AsyncTestClient[Any]) -> None:
    user, headers = await customer(client)
    assert_problem(await client.delete(ME, headers=headers), 415, "unsupported-media-type")
    empty = await client.request("DELETE", ME, content=b"", headers={**headers, "Content-Type": "application/json"})
    assert_problem(empty, 400, "malformed-request")
    wrong = await _delete_me(client, headers, "not the password")
    assert assert_problem(wrong, 422, "validation-error")["errors"][0]["field"] == "current_password"
    assert (await client.get(ME, headers=headers)).status_code == 200
    assert (await _delete_me(client, headers)).status_code == 204
    assert_problem(await client.get(ME, headers=headers), 401, "unauthenticated")
    documented = (await client.get("/openapi.json")).json()["paths"][ME]["delete"]
    body = documented["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AccountDeletion"}
    assert "422" in documented["responses"]


async def test_password_change_queues_a_notice_to_the_owner_with_the_change(
    client: AsyncTestClient[Any], services: Any
) -> None:
    user, headers = await customer(client)
    change = {"current_password": PASSWORD, "new_password": "brand new password"}
    assert (await client.post(f"{ME}/password", json=change, headers=headers)).status_code == 204
    notices = await sql(
        services.database_url,
        "SELECT payload FROM outbox WHERE kind = 'password_changed' AND recipient = $1",
        user["email"],
    )
    assert [json.loads(row["payload"]) for row in notices] == [{"name": None}]  # unverified: no text the account chose


async def test_email_change_revokes_the_other_sessions_and_keeps_this_one(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    mine, other = await login(client, user["email"]), await login(client, user["email"])
    change = {"email": unique_email(), "current_password": PASSWORD}
    assert (await client.patch(ME, json=change, headers=bearer(mine["access_token"]))).status_code == 200
    assert (await client.get(ME, headers=bearer(mine["access_token"]))).status_code == 200
    assert_problem(await client.get(ME, headers=bearer(other["access_token"])), 401, "unauthenticated")
    stale = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert_problem(stale, 401, "unauthenticated")
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": mine["refresh_token"]})).status_code == 200


async def test_deleted_user_reads_as_404_for_admins(client: AsyncTestClient[Any], services: Any) -> None:
    user, headers = await customer(client)
    _, admin_headers = await admin(client, services.database_url)
    await _delete_me(client, headers)
    assert_problem(await client.get(f"{USERS}/{user['id']}", headers=admin_headers), 404, "not-found")


async def test_deactivated_user_token_is_401_and_login_fails(client: AsyncTestClient[Any], services: Any) -> None:
    user, headers = await customer(client)
    _, admin_headers = await admin(client, services.database_url)
    response = await client.patch(f"{USERS}/{user['id']}", json={"is_active": False}, headers=admin_headers)
    assert response.json()["is_active"] is False
    assert_problem(await client.get(ME, headers=headers), 401, "unauthenticated")
    failed = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert_problem(failed, 401, "unauthenticated")


async def test_demoted_admin_is_403_at_once(client: AsyncTestClient[Any], services: Any) -> None:
    _, first = await admin(client, services.database_url)
    second_email, second = await admin(client, services.database_url)
    me = (await client.get(ME, headers=second)).json()
    assert (await client.get(USERS, headers=second)).status_code == 200
    await client.patch(f"{USERS}/{me['id']}", json={"role": "customer"}, headers=first)
    assert_problem(await client.get(USERS, headers=second), 403, "forbidden")


async def test_customer_on_admin_routes_is_403(client: AsyncTestClient[Any]) -> None:
    user, headers = await customer(client)
    assert_problem(await client.get(USERS, headers=headers), 403, "forbidden")
    assert_problem(
        await client.patch(f"{USERS}/{user['id']}", json={"role": "admin"}, headers=headers), 403, "forbidden"
    )


async def test_get_user_is_for_self_or_admin(client: AsyncTestClient[Any], services: Any) -> None:
    user, headers = await customer(client)
    other, other_headers = await customer(client)
    assert (await client.get(f"{USERS}/{user['id']}", headers=headers)).json() == user
    assert_problem(await client.get(f"{USERS}/{user['id']}", headers=other_headers), 404, "not-found")
    _, admin_headers = await admin(client, services.database_url)
    assert (await client.get(f"{USERS}/{other['id']}", headers=admin_headers)).status_code == 200


async def test_last_admin_cannot_be_demoted_deactivated_or_deleted(client: AsyncTestClient[Any], services: Any) -> None:
    _, headers = await admin(client, services.database_url)
    me = (await client.get(ME, headers=headers)).json()
    for change in ({"role": "customer"}, {"is_active": False}):
        assert_problem(await client.patch(f"{USERS}/{me['id']}", json=change, headers=headers), 409, "conflict")
    assert_problem(await client.delete(f"{USERS}/{me['id']}", headers=headers), 409, "conflict")
    assert_problem(await _delete_me(client, headers), 409, "conflict")
    # With a second admin the first may step down.
    await admin(client, services.database_url)
    assert (await client.patch(f"{USERS}/{me['id']}", json={"role": "customer"}, headers=headers)).status_code == 200


async def test_admin_list_filters_and_paginates(client: AsyncTestClient[Any], services: Any) -> None:
    _, headers = await admin(client, services.database_url)
    for _ in range(5):
        await register(client, unique_email("page"))
    seen: list[str] = []
    cursor = None
    while True:
        url = f"{USERS}?limit=2&role=customer" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=headers)).json()
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    found = (await client.get(f"{USERS}?q=admin", headers=headers)).json()["items"]
    assert [u["role"] for u in found] == ["admin"]
    literal = (await client.get(f"{USERS}?q=%25", headers=headers)).json()["items"]
    assert literal == []


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=garbage", "role=king", "is_active=maybe"])
async def test_bad_list_parameters_are_422(client: AsyncTestClient[Any], services: Any, query: str) -> None:
    _, headers = await admin(client, services.database_url)
    body = assert_problem(await client.get(f"{USERS}?{query}", headers=headers), 422, "validation-error")
    assert body["errors"][0]["field"] == query.split("=")[0]
