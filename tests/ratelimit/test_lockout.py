"""Failed logins cannot lock an owner out: buckets per account × network and per network, an
account ceiling that slows distributed guessing (and tells the owner once), and a reset that
forgets it all. Client networks are set through a trusted proxy's X-Forwarded-For."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.http import PASSWORD, assert_problem, register
from tests.support.mail import Mailbox, text_of, token_in
from tests.support.services import Services, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
LOGIN = "/api/v1/auth/login"
PROXY: dict[str, Any] = {"address": "10.0.0.5", "TRUSTED_PROXIES": "10.0.0.0/8"}
NEW_PASSWORD = "another long passphrase"


def via(network: str) -> dict[str, str]:
    return {"X-Forwarded-For": network}


async def _try(client: httpx.AsyncClient, email: str, password: str, network: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password}, headers=via(network))


async def test_wrong_passwords_from_one_network_never_lock_the_owner_out_of_another(
    services: Services, clean: None
) -> None:
    async with serving(services, **PROXY, LOGIN_RATE_LIMIT_PER_MINUTE="5") as client:
        email = (await register(client))["email"]
        statuses = [(await _try(client, email, "wrong password", "198.51.100.1")).status_code for _ in range(20)]
        assert statuses == [401] * 5 + [429] * 15
        assert (await _try(client, email, PASSWORD, "203.0.113.9")).status_code == 200
        # The guessing network stays stopped on that account, right password or not.
        assert_problem(await _try(client, email, PASSWORD, "198.51.100.1"), 429, "rate-limited")


async def test_one_network_is_still_stopped_across_accounts(services: Services, clean: None) -> None:
    async with serving(services, **PROXY, LOGIN_RATE_LIMIT_PER_MINUTE="2") as client:
        emails = [(await register(client))["email"] for _ in range(5)]
        statuses = [(await _try(client, e, "wrong password", "198.51.100.1")).status_code for e in emails for _ in "ab"]
        # 2 per account × network, and 2 × 4 = 8 per network whatever the account.
        assert statuses == [401] * 8 + [429] * 2
        fresh = await _try(client, (await register(client))["email"], PASSWORD, "198.51.100.1")
        assert_problem(fresh, 429, "rate-limited")
        assert fresh.headers["ratelimit-policy"].startswith('"login";q=2;w=60')
        assert (await _try(client, emails[0], PASSWORD, "198.51.100.2")).status_code == 200


async def _reset_password(client: httpx.AsyncClient, mailbox: Mailbox, email: str) -> None:
    response = await client.post("/api/v1/auth/password-reset", json={"email": email}, headers=via("192.0.2.1"))
    assert response.status_code == 202
    for _ in range(500):
        links = [m for m in mailbox.to(email) if "reset" in m["Subject"].lower()]
        if links:
            body = {"token": token_in(links[-1]), "new_password": NEW_PASSWORD}
            confirmed = await client.post("/api/v1/auth/password-reset/confirm", json=body, headers=via("192.0.2.1"))
            assert confirmed.status_code == 204, confirmed.text
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no reset message")


async def test_a_completed_reset_forgets_the_failures_of_every_network(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    async with serving(services, **PROXY, SMTP_URL=mailbox.url, LOGIN_RATE_LIMIT_PER_MINUTE="3") as client:
        email = (await register(client))["email"]
        for network in ("198.51.100.1", "198.51.100.2"):
            statuses = [(await _try(client, email, "wrong password", network)).status_code for _ in range(4)]
            assert statuses == [401, 401, 401, 429]
        await _reset_password(client, mailbox, email)
        for network in ("198.51.100.1", "198.51.100.2"):
            assert (await _try(client, email, NEW_PASSWORD, network)).status_code == 200


async def _outbox(services: Services, kind: str) -> list[str]:
    rows = await sql(services.database_url, "SELECT recipient FROM outbox WHERE kind = $1", kind)
    return [row["recipient"] for row in rows]


def _comparable(response: httpx.Response) -> tuple[int, str, str | None]:
    # The detail of a 429 names its wait in seconds, which may be read either side of a second.
    return response.status_code, response.json()["type"], response.headers.get("ratelimit-policy")


async def test_guessing_from_many_networks_is_slowed_and_the_owner_told_once(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    env = {"SMTP_URL": mailbox.url, "LOGIN_RATE_LIMIT_PER_MINUTE": "5", "LOGIN_ACCOUNT_RATE_LIMIT_PER_HOUR": "3"}
    async with serving(services, **PROXY, **env) as client:
        owner = (await register(client))["email"]
        answers: dict[str, list[tuple[int, str, str | None]]] = {}
        for email in (owner, "nobody@example.com"):
            answers[email] = []
            for n in range(8):  # three networks spend the ceiling; then each network has one try a minute
                for _ in range(2):
                    answers[email].append(_comparable(await _try(client, email, "wrong password", f"198.51.100.{n}")))
        statuses = [status for status, _, _ in answers[owner]]
        assert statuses == [401] * 4 + [401, 429] * 6
        assert answers[owner][5][2].startswith('"login-slowed";q=1;w=60')
        assert answers[owner] == answers["nobody@example.com"]  # nothing tells the two apart
        # The owner, on a network of their own, gets in beyond the ceiling.
        assert (await _try(client, owner, PASSWORD, "203.0.113.9")).status_code == 200
        assert await _outbox(services, "failed_logins") == [owner]
        await mailbox.wait_for(2)
        (notice,) = [m for m in mailbox.to(owner) if m["Subject"] == "Many failed sign-ins to your Storefront account"]
        assert text_of(notice).splitlines()[0] == "Hello,"  # no name: the registrant chose it
