"""Outbound mail is limited per recipient (every kind together) and per account (email changes,
resends): an authenticated caller gets a 429 before anything changes; a route that must not reveal
whether an account exists skips the message and answers as usual. Counted in the outbox."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests.support.http import PASSWORD, assert_problem, bearer, login, register
from tests.support.services import Services, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
ME = "/api/v1/users/me"
AUTH = "/api/v1/auth"
ADDRESSES = ("a@example.com", "b@example.com")


async def _sent(services: Services, exclude: str = "welcome") -> Counter[str]:
    """Messages queued per recipient, without the kind registration queues (its limit is its own)."""
    rows = await sql(services.database_url, "SELECT recipient FROM outbox WHERE kind <> $1", exclude)
    return Counter(row["recipient"] for row in rows)


async def _alternate(client: httpx.AsyncClient, times: int) -> list[httpx.Response]:
    """Ask `times` to change the signed-in account's email to the address it does not have."""
    await register(client, ADDRESSES[0])
    headers = bearer((await login(client, ADDRESSES[0]))["access_token"])
    responses, current = [], ADDRESSES[0]
    for _ in range(times):
        other = ADDRESSES[1] if current == ADDRESSES[0] else ADDRESSES[0]
        response = await client.patch(ME, json={"email": other, "current_password": PASSWORD}, headers=headers)
        responses.append(response)
        current = other if response.status_code == 200 else current
        assert (await client.get(ME, headers=headers)).json()["email"] == current  # a 429 changed nothing
    return responses


async def test_alternating_email_changes_stop_at_the_account_limit(services: Services, clean: None) -> None:
    async with serving(services, EMAIL_CHANGE_RATE_LIMIT_PER_HOUR="3") as client:
        responses = await _alternate(client, 8)
    assert [r.status_code for r in responses] == [200] * 3 + [429] * 5
    refused = assert_problem(responses[3], 429, "rate-limited")
    assert "retry in" in refused["detail"]
    assert int(responses[3].headers["retry-after"]) >= 1
    assert responses[3].headers["ratelimit-policy"].startswith('"email-change";q=3;w=3600')
    # Each change: a link to the new address, a notice to the old one.
    assert sum((await _sent(services)).values()) == 6


async def test_alternating_email_changes_stop_at_each_recipients_limit(services: Services, clean: None) -> None:
    async with serving(services, MAIL_RECIPIENT_RATE_LIMIT_PER_HOUR="4") as client:
        responses = await _alternate(client, 10)
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 200
    assert 429 in statuses
    assert_problem(responses[statuses.index(429)], 429, "rate-limited")
    assert responses[statuses.index(429)].headers["ratelimit-policy"].startswith('"mail-recipient";q=4;w=3600')
    sent = await _sent(services)
    assert set(sent) == set(ADDRESSES)
    assert max(sent.values()) <= 4


async def test_resends_stop_at_the_recipients_limit(services: Services, clean: None) -> None:
    async with serving(services, MAIL_RECIPIENT_RATE_LIMIT_PER_HOUR="3") as client:
        await register(client, "resend@example.com")
        headers = bearer((await login(client, "resend@example.com"))["access_token"])
        responses = [await client.post(f"{AUTH}/verify-email/resend", headers=headers) for _ in range(5)]
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 202
    assert statuses[-2:] == [429, 429]
    assert responses[-1].headers["ratelimit-policy"].startswith('"mail-recipient";q=3;w=3600')
    assert (await _sent(services))["resend@example.com"] <= 3


async def test_a_reset_past_the_recipients_limit_sends_nothing_and_answers_the_same(
    services: Services, clean: None
) -> None:
    async with serving(services, MAIL_RECIPIENT_RATE_LIMIT_PER_HOUR="2") as client:
        await register(client, "known@example.com")
        bodies = set()
        for email in ("known@example.com", "nobody@example.com"):
            for _ in range(4):
                response = await client.post(f"{AUTH}/password-reset", json={"email": email})
                assert response.status_code == 202
                bodies.add(response.content)
    assert len(bodies) == 1
    assert 1 <= (await _sent(services))["known@example.com"] <= 2
    assert (await _sent(services))["nobody@example.com"] == 0


async def test_registering_a_taken_address_again_and_again_mails_its_owner_at_most_the_budget(
    services: Services, clean: None
) -> None:
    """A stranger cannot flood an owner's inbox with "someone tried to register" notices: the
    welcome and the notices share the address's budget, and every attempt still answers 202."""
    body = {"email": "owner@example.com", "password": PASSWORD, "full_name": "Stranger"}
    async with serving(services, MAIL_RECIPIENT_RATE_LIMIT_PER_HOUR="3") as client:
        responses = [await client.post(f"{AUTH}/register", json=body) for _ in range(6)]
    assert {r.status_code for r in responses} == {202}
    assert len({r.content for r in responses}) == 1
    sent = await _sent(services, exclude="")
    assert sent["owner@example.com"] == 3
