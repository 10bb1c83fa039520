"""The session → caller lookup from each worker's memory, and revocation still immediate: logout,
a password change, deactivation and demotion on one instance reach the other within the bound."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.http import PASSWORD, admin, bearer, login, verified_customer
from tests.support.readcache import BOUND, instance
from tests.support.services import Services

pytestmark = pytest.mark.anyio
ME = "/api/v1/users/me"
SESSION_LOOKUP = "FROM sessions AS s"


def lookups(queries: list[str]) -> int:
    return sum(SESSION_LOOKUP in query for query in queries)


async def _signed_in_on_both(
    a: httpx.AsyncClient, b: httpx.AsyncClient, dsn: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """A verified customer signed in on A whose token B has cached."""
    user, headers = await verified_customer(a, dsn)
    assert (await b.get(ME, headers=headers)).status_code == 200
    return user, headers


async def test_me_is_answered_from_memory_once_the_session_is_known(
    services: Services, clean: None, executed_queries: list[str]
) -> None:
    async with instance(services) as (a, _):
        _, headers = await verified_customer(a, services.database_url)
        await a.get(ME, headers=headers)
        executed_queries.clear()
        assert (await a.get(ME, headers=headers)).status_code == 200
        assert executed_queries == []  # no query at all: the caller came from memory


async def test_logout_on_one_instance_refuses_the_token_on_the_other(services: Services, clean: None) -> None:
    async with instance(services) as (a, _), instance(services) as (b, _):
        user, _ = await verified_customer(a, services.database_url)
        tokens = await login(a, user["email"])
        token = bearer(tokens["access_token"])
        assert (await b.get(ME, headers=token)).status_code == 200
        out = await a.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=token)
        assert out.status_code == 204
        await asyncio.sleep(BOUND)
        assert (await b.get(ME, headers=token)).status_code == 401


async def test_a_password_change_signs_out_the_other_sessions_on_every_instance(
    services: Services, clean: None
) -> None:
    async with instance(services) as (a, _), instance(services) as (b, _):
        user, kept = await _signed_in_on_both(a, b, services.database_url)
        other = bearer((await login(a, user["email"]))["access_token"])
        assert (await b.get(ME, headers=other)).status_code == 200
        body = {"current_password": PASSWORD, "new_password": "an entirely new passphrase"}
        assert (await a.post(f"{ME}/password", json=body, headers=kept)).status_code == 204
        await asyncio.sleep(BOUND)
        assert (await b.get(ME, headers=other)).status_code == 401
        assert (await b.get(ME, headers=kept)).status_code == 200


async def test_deactivation_and_demotion_on_one_instance_reach_the_other(services: Services, clean: None) -> None:
    async with instance(services) as (a, _), instance(services) as (b, _):
        _, admin_headers = await admin(a, services.database_url)
        user, headers = await _signed_in_on_both(a, b, services.database_url)
        # An admin signed in on both, then demoted on A: B downgrades them (403 on an admin route).
        _, other_admin = await admin(a, services.database_url)
        assert (await b.get("/api/v1/users", headers=other_admin)).status_code == 200
        other_id = (await a.get(ME, headers=other_admin)).json()["id"]
        demoted = await a.patch(f"/api/v1/users/{other_id}", json={"role": "customer"}, headers=admin_headers)
        assert demoted.status_code == 200, demoted.text
        await asyncio.sleep(BOUND)
        assert (await b.get("/api/v1/users", headers=other_admin)).status_code in (401, 403)
        off = await a.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin_headers)
        assert off.status_code == 200, off.text
        await asyncio.sleep(BOUND)
        assert (await b.get(ME, headers=headers)).status_code == 401


async def test_deleting_an_account_on_one_instance_refuses_its_tokens_on_the_other(
    services: Services, clean: None
) -> None:
    async with instance(services) as (a, _), instance(services) as (b, _):
        _, admin_headers = await admin(a, services.database_url)
        by_admin, by_admin_headers = await _signed_in_on_both(a, b, services.database_url)
        _, own_headers = await _signed_in_on_both(a, b, services.database_url)
        gone = await a.delete(f"/api/v1/users/{by_admin['id']}", headers=admin_headers)
        assert gone.status_code == 204, gone.text
        own = await a.request("DELETE", ME, json={"current_password": PASSWORD}, headers=own_headers)
        assert own.status_code == 204, own.text
        await asyncio.sleep(BOUND)
        assert (await b.get(ME, headers=by_admin_headers)).status_code == 401
        assert (await b.get(ME, headers=own_headers)).status_code == 401
