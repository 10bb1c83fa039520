"""Password strength: every new password (register, change, reset) is scored by the estimator."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from storefront.accounts import strength
from tests.support.http import PASSWORD, assert_problem, bearer, customer, login, register
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
ADA = {"email": "ada.lovelace@example.com", "full_name": "Ada Lovelace"}


def _refused(response: Any, field: str) -> str:
    """The message of the 422 on `field`."""
    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert error["field"] == field
    return str(error["message"])


@pytest.mark.parametrize("password", ["12345678", "password", "qwertyuiop", "Password1", "aaaaaaaaaaaa"])
async def test_register_refuses_a_weak_password_with_the_estimators_advice(
    client: AsyncTestClient[Any], services: Any, password: str
) -> None:
    response = await client.post(f"{AUTH}/register", json={**ADA, "password": password})
    message = _refused(response, "password")
    assert message.startswith("is too weak: ")
    assert len(message) > len("is too weak: ")  # the estimator's warning or suggestions follow
    assert await sql(services.database_url, "SELECT 1 FROM users") == []


@pytest.mark.parametrize("password", ["adalovelace!", "Ada.Lovelace1815", "lovelace-ADA-2024", "AdaLovelace-Xq7"])
async def test_register_refuses_a_password_built_from_the_email_or_name(
    client: AsyncTestClient[Any], password: str
) -> None:
    response = await client.post(f"{AUTH}/register", json={**ADA, "password": password})
    _refused(response, "password")


async def test_a_strong_password_is_taken_even_next_to_a_personal_word(client: AsyncTestClient[Any]) -> None:
    for password in (PASSWORD, "ada and the difference engine", secrets.token_urlsafe(12)):
        body = {"email": f"{secrets.token_hex(4)}.ada@example.com", "full_name": "Ada", "password": password}
        assert (await client.post(f"{AUTH}/register", json=body)).status_code == 202, password


async def test_a_password_change_refuses_a_weak_new_password(client: AsyncTestClient[Any]) -> None:
    user, headers = await customer(client)
    weak = {"current_password": PASSWORD, "new_password": "password1"}
    assert "too weak" in _refused(await client.post(f"{ME}/password", json=weak, headers=headers), "new_password")
    local = user["email"].split("@")[0]
    personal = {"current_password": PASSWORD, "new_password": f"{local}!{local}"}
    _refused(await client.post(f"{ME}/password", json=personal, headers=headers), "new_password")
    await login(client, user["email"])  # unchanged


async def test_a_reset_refuses_a_weak_new_password_and_keeps_the_link_alive(
    client: AsyncTestClient[Any], services: Any
) -> None:
    user = await register(client)
    token = secrets.token_urlsafe(32)
    await sql(
        services.database_url,
        "INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at) "
        "VALUES (sha256($1::text::bytea), $2, 'reset_password', $3, now() + interval '30 minutes')",
        token,
        user["id"],
        user["email"],
    )
    weak = await client.post(f"{AUTH}/password-reset/confirm", json={"token": token, "new_password": "qwertyuiop"})
    assert "too weak" in _refused(weak, "new_password")
    strong = {"token": token, "new_password": "a brand new passphrase"}
    assert (await client.post(f"{AUTH}/password-reset/confirm", json=strong)).status_code == 204
    tokens = await login(client, user["email"], "a brand new passphrase")
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200


async def test_a_made_up_reset_token_is_refused_before_the_password_is_scored(client: AsyncTestClient[Any]) -> None:
    body = {"token": secrets.token_urlsafe(32), "new_password": "qwertyuiop"}
    _refused(await client.post(f"{AUTH}/password-reset/confirm", json=body), "token")


def test_the_estimator_reads_a_bounded_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its cost grows steeply with length (with the GIL held), so it never reads past SCORED_CHARS."""
    seen: list[int] = []
    real = strength.zxcvbn

    def counting(password: str, user_inputs: list[str] | None = None) -> Any:
        seen.append(len(password))
        return real(password, user_inputs)

    monkeypatch.setattr(strength, "zxcvbn", counting)
    leet = "4@8({[<3&69!|1l07$5+%2" * 6
    strength.weakness(leet[:128], "ada.lovelace@example.com", "Ada Lovelace")
    strength.weakness("adalovelace" + leet[:100], "ada.lovelace@example.com", "Ada Lovelace")
    assert seen
    assert max(seen) <= strength.SCORED_CHARS
