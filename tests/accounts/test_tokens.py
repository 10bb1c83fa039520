"""Access-token forgeries and misuse: every one is a 401 with WWW-Authenticate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from tests.support.http import assert_problem, bearer, login, register
from tests.support.services import TEST_SECRET

pytestmark = pytest.mark.anyio
ME = "/api/v1/users/me"


async def _session(client: AsyncTestClient[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    user = await register(client)
    return user, await login(client, user["email"])


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def _sign(claims: dict[str, Any], algorithm: str = "HS256") -> str:
    return jwt.encode(claims, TEST_SECRET, algorithm=algorithm)


async def _rejected(client: AsyncTestClient[Any], token: str) -> None:
    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_valid_token_reaches_me(client: AsyncTestClient[Any]) -> None:
    user, tokens = await _session(client)
    response = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json() == user
    assert response.headers["cache-control"] == "no-store"


async def test_alg_none_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = tokens["access_token"].split(".")[1]
    await _rejected(client, f"{header}.{payload}.")


async def test_hs512_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    await _rejected(client, _sign(_claims(tokens["access_token"]), "HS512"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_rs256_header_is_rejected_even_when_hmac_signed(client: AsyncTestClient[Any]) -> None:
    # The classic algorithm-confusion forgery: an RS256 header over an HMAC signature with the secret.
    _, tokens = await _session(client)
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{tokens['access_token'].split('.')[1]}"
    signature = hmac.new(TEST_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    await _rejected(client, f"{signing_input}.{_b64(signature)}")


async def test_tampered_payload_is_rejected(client: AsyncTestClient[Any]) -> None:
    other, _ = await _session(client)
    _, tokens = await _session(client)
    header, _, signature = tokens["access_token"].split(".")
    claims = {**_claims(tokens["access_token"]), "sub": other["id"]}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    await _rejected(client, f"{header}.{payload}.{signature}")


async def test_expired_token_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    now = int(time.time())
    claims = {**_claims(tokens["access_token"]), "iat": now - 100, "nbf": now - 100, "exp": now - 60}
    await _rejected(client, _sign(claims))


@pytest.mark.parametrize("missing", ["exp", "sub", "jti", "sid", "typ"])
async def test_token_missing_a_claim_is_rejected(client: AsyncTestClient[Any], missing: str) -> None:
    _, tokens = await _session(client)
    claims = _claims(tokens["access_token"])
    del claims[missing]
    await _rejected(client, _sign(claims))


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil"), ("typ", "refresh")])
async def test_wrong_audience_issuer_or_type_is_rejected(client: AsyncTestClient[Any], claim: str, value: str) -> None:
    _, tokens = await _session(client)
    await _rejected(client, _sign({**_claims(tokens["access_token"]), claim: value}))


async def test_token_for_unknown_session_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    await _rejected(client, _sign({**_claims(tokens["access_token"]), "sid": str(uuid.uuid4())}))


async def test_refresh_token_as_bearer_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    await _rejected(client, tokens["refresh_token"])


async def test_access_token_sent_to_refresh_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert_problem(response, 401, "unauthenticated")


async def test_token_in_query_string_is_ignored(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    for name in ("access_token", "token"):
        response = await client.get(f"{ME}?{name}={tokens['access_token']}")
        assert_problem(response, 401, "unauthenticated")


async def test_missing_or_non_bearer_header_is_rejected(client: AsyncTestClient[Any]) -> None:
    assert_problem(await client.get(ME), 401, "unauthenticated")
    response = await client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401, "unauthenticated")


async def test_anonymous_request_with_malformed_body_is_401(client: AsyncTestClient[Any]) -> None:
    response = await client.patch(ME, content=b"{not json", headers={"Content-Type": "application/json"})
    assert_problem(response, 401, "unauthenticated")
    response = await client.post("/api/v1/auth/logout", content=b"x", headers={"Content-Type": "text/plain"})
    assert_problem(response, 401, "unauthenticated")


async def test_issued_tokens_are_standard_jwts(client: AsyncTestClient[Any]) -> None:
    user, tokens = await _session(client)
    claims = jwt.decode(
        tokens["access_token"], TEST_SECRET, algorithms=["HS256"], audience="storefront-api", issuer="storefront"
    )
    assert claims["sub"] == user["id"]
    assert set(claims) == {"sub", "sid", "exp", "iat", "nbf", "jti", "iss", "aud", "typ"}


async def test_token_with_reordered_header_or_extra_segment_is_rejected(client: AsyncTestClient[Any]) -> None:
    _, tokens = await _session(client)
    claims = _claims(tokens["access_token"])
    await _rejected(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256", headers={"kid": "1"}))
    await _rejected(client, tokens["access_token"] + ".extra")
    latin = ("Bearer " + tokens["access_token"].replace(".", ".\xe9", 1)).encode("latin-1")
    assert_problem(await client.get(ME, headers={"Authorization": latin}), 401, "unauthenticated")
