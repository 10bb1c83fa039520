"""The password reset, through the HTTP surface and a real SMTP server (aiosmtpd in the test
process): one answer for every address, a link that works once and signs out every session, the
newest link only, expiry, deactivated accounts, limits."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from tests.support.http import PASSWORD, assert_problem, bearer, login, register
from tests.support.mail import Mailbox, reset_token, text_of
from tests.support.services import Services, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


async def test_password_reset_answers_the_same_for_unknown_emails_and_sends_nothing(
    mail_client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mail_client, "known@example.com")
    await mailbox.wait_for(1)
    mailbox.clear()
    timings: dict[str, list[float]] = {"known@example.com": [], "nobody@example.com": []}
    bodies = set()
    for _ in range(7):
        for email, seen in timings.items():
            started = time.perf_counter()
            response = await mail_client.post(f"{AUTH}/password-reset", json={"email": email})
            seen.append(time.perf_counter() - started)
            assert response.status_code == 202
            bodies.add(response.content)
    assert len(bodies) == 1
    known, unknown = (statistics.median(seen) for seen in timings.values())
    assert abs(known - unknown) < 0.025, (known, unknown)
    await mailbox.wait_for(7)
    await asyncio.sleep(0.3)
    assert len(mailbox.to("known@example.com")) == 7
    assert mailbox.to("nobody@example.com") == []


async def test_a_reset_token_works_once_and_signs_out_every_session(
    mail_client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mail_client, "reset@example.com")
    await mailbox.wait_for(1)
    first, second = await login(mail_client, "reset@example.com"), await login(mail_client, "reset@example.com")
    token = await reset_token(mail_client, mailbox, "reset@example.com")
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert (await mail_client.post(f"{AUTH}/password-reset/confirm", json=body)).status_code == 204
    assert_problem(await mail_client.post(f"{AUTH}/password-reset/confirm", json=body), 422, "validation-error")

    for pair in (first, second):
        assert (await mail_client.get(ME, headers=bearer(pair["access_token"]))).status_code == 401
        refresh = await mail_client.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]})
        assert refresh.status_code == 401
    wrong = await mail_client.post(f"{AUTH}/login", json={"email": "reset@example.com", "password": PASSWORD})
    assert wrong.status_code == 401
    headers = bearer((await login(mail_client, "reset@example.com", NEW_PASSWORD))["access_token"])
    # The link came to the address, so the reset proved it too.
    assert (await mail_client.get(ME, headers=headers)).json()["email_verified"] is True
    await mailbox.wait_for(3)
    (notice,) = [m for m in mailbox.to("reset@example.com") if m["Subject"] == "Your Test Shop password was changed"]
    assert "token=" not in text_of(notice)


async def test_a_newer_reset_link_replaces_the_older_one(mail_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mail_client, "twice@example.com")
    await mailbox.wait_for(1)
    older = await reset_token(mail_client, mailbox, "twice@example.com")
    newer = await reset_token(mail_client, mailbox, "twice@example.com")
    stale = {"token": older, "new_password": NEW_PASSWORD}
    assert_problem(await mail_client.post(f"{AUTH}/password-reset/confirm", json=stale), 422, "validation-error")
    fresh = {"token": newer, "new_password": NEW_PASSWORD}
    assert (await mail_client.post(f"{AUTH}/password-reset/confirm", json=fresh)).status_code == 204


async def test_an_expired_reset_link_is_refused(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    await register(mail_client, "late@example.com")
    await mailbox.wait_for(1)
    token = await reset_token(mail_client, mailbox, "late@example.com")
    await sql(
        services.database_url,
        "UPDATE email_tokens SET created_at = now() - interval '31 minutes', expires_at = now() - interval '1 minute'",
    )
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert_problem(await mail_client.post(f"{AUTH}/password-reset/confirm", json=body), 422, "validation-error")
    ok = await mail_client.post(f"{AUTH}/login", json={"email": "late@example.com", "password": PASSWORD})
    assert ok.status_code == 200


async def test_reset_of_a_deactivated_account_is_refused_and_sends_nothing(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    await register(mail_client, "gone@example.com")
    await mailbox.wait_for(1)
    token = await reset_token(mail_client, mailbox, "gone@example.com")
    await sql(services.database_url, "UPDATE users SET is_active = false WHERE email = 'gone@example.com'")
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert_problem(await mail_client.post(f"{AUTH}/password-reset/confirm", json=body), 422, "validation-error")
    assert (await mail_client.post(f"{AUTH}/password-reset", json={"email": "gone@example.com"})).status_code == 202
    await asyncio.sleep(0.3)
    assert len(mailbox.to("gone@example.com")) == 2  # the welcome and the first reset link only


async def test_password_reset_is_limited_per_email_and_per_address(
    services: Services, mailbox: Mailbox, clean: None
) -> None:
    async with serving(services, SMTP_URL=mailbox.url, PASSWORD_RESET_RATE_LIMIT_PER_HOUR="2") as client:
        same = [
            (await client.post(f"{AUTH}/password-reset", json={"email": "x@example.com"})).status_code for _ in range(3)
        ]
        assert same == [202, 202, 429]
        many = [
            (await client.post(f"{AUTH}/password-reset", json={"email": f"u{n}@example.com"})).status_code
            for n in range(8)
        ]
        # The address had 2 × 4 = 8 requests an hour; three went on x@example.com (one refused).
        assert many.count(202) == 6
        assert many[-1] == 429
