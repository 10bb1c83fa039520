"""The absolute session lifetime: no rotation carries a session past SESSION_MAX_AGE_SECONDS."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from storefront.platform.settings import Settings
from tests.support.http import assert_problem, login, register
from tests.support.services import Services, make_settings
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
REFRESH = "/api/v1/auth/refresh"
MAX_AGE = 3600  # under the refresh TTL (30 days), over the access TTL (15 min)


@pytest.fixture
def settings(services: Services) -> Settings:
    return make_settings(services, SESSION_MAX_AGE_SECONDS=str(MAX_AGE))


async def _age_sessions(dsn: str, seconds: int) -> None:
    """Move every session's start `seconds` into the past (its tokens keep their own expiry)."""
    await sql(dsn, "UPDATE sessions SET created_at = created_at - make_interval(secs => $1)", float(seconds))


async def _session_end_and_token_expiries(dsn: str) -> tuple[float, list[float]]:
    """The session's absolute end and the expiries of its live refresh tokens (epoch seconds)."""
    rows = await sql(
        dsn,
        "SELECT extract(epoch FROM s.created_at)::float8 + $1 AS ends, extract(epoch FROM t.expires_at)::float8 AS expires "
        "FROM sessions AS s JOIN refresh_tokens AS t ON t.session_id = s.id WHERE t.rotated_at IS NULL AND s.revoked_at IS NULL",
        float(MAX_AGE),
    )
    return rows[0]["ends"], [row["expires"] for row in rows]


async def test_refresh_tokens_never_outlive_the_session(client: AsyncTestClient[Any], services: Services) -> None:
    user = await register(client)
    tokens = await login(client, user["email"])
    ends, expiries = await _session_end_and_token_expiries(services.database_url)
    assert max(expiries) <= ends + 1  # not login + REFRESH_TOKEN_TTL_SECONDS
    await _age_sessions(services.database_url, MAX_AGE - 120)
    rotated = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    ends, expiries = await _session_end_and_token_expiries(services.database_url)
    assert max(expiries) <= ends + 1
    assert ends - time.time() < 200  # the session really is near its end


async def test_the_access_token_expires_with_the_session(client: AsyncTestClient[Any], services: Services) -> None:
    user = await register(client)
    tokens = await login(client, user["email"])
    await _age_sessions(services.database_url, MAX_AGE - 120)
    pair = (await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})).json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    ends, _ = await _session_end_and_token_expiries(services.database_url)
    assert claims["exp"] <= ends + 1
    assert 0 <= pair["expires_in"] <= 120  # not ACCESS_TOKEN_TTL_SECONDS (900)


async def test_a_refresh_after_the_session_max_age_is_401(client: AsyncTestClient[Any], services: Services) -> None:
    user = await register(client)
    tokens = await login(client, user["email"])
    # Tokens issued under a longer max age keep their expiry: the session's start alone decides.
    await sql(services.database_url, "UPDATE refresh_tokens SET expires_at = now() + interval '30 days'")
    await _age_sessions(services.database_url, MAX_AGE + 1)
    late = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert_problem(late, 401, "unauthenticated")
    fresh = await login(client, user["email"])  # a new login is a new session
    assert (await client.post(REFRESH, json={"refresh_token": fresh["refresh_token"]})).status_code == 200
