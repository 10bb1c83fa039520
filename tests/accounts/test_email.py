"""Email verification, email change and password reset, through the HTTP surface and a real SMTP
server (aiosmtpd in the test process)."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from tests.support.http import PASSWORD, assert_problem, bearer, login, mark_verified, register
from tests.support.mail import Mailbox, html_of, text_of, token_in
from tests.support.services import Services, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


async def _signed_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return bearer((await login(client, email))["access_token"])


async def _reset_token(client: httpx.AsyncClient, mailbox: Mailbox, email: str) -> str:
    before = len(mailbox.to(email))
    response = await client.post(f"{AUTH}/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    for _ in range(500):
        if len(mailbox.to(email)) > before:
            return token_in(mailbox.to(email)[-1])
        await asyncio.sleep(0.02)
    raise AssertionError("no reset message")


async def test_register_sends_exactly_one_welcome_message_whose_link_verifies_the_email(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    user = await register(mail_client, "ada@example.com")
    assert user["email_verified"] is False
    (message,) = await mailbox.wait_for(1)
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Test Shop <shop@example.com>"
    assert message["Subject"] == "Welcome to Test Shop: please confirm your email"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    (outbox_id,) = [row["id"] for row in await sql(services.database_url, "SELECT id FROM outbox")]
    assert message["Message-ID"] == f"<{outbox_id}@example.com>"
    assert "http://localhost:8000/verify-email?token=" in text_of(message)
    token = token_in(message)
    assert await sql(
        services.database_url, "SELECT 1 FROM email_tokens WHERE token_hash = sha256($1::text::bytea)", token
    )

    assert (await mail_client.post(f"{AUTH}/verify-email", json={"token": token})).status_code == 204
    me = await mail_client.get(ME, headers=await _signed_in(mail_client, "ada@example.com"))
    assert me.json()["email_verified"] is True
    again = await mail_client.post(f"{AUTH}/verify-email", json={"token": token})
    assert_problem(again, 422, "validation-error")
    await asyncio.sleep(0.3)
    assert len(mailbox.messages) == 1


async def test_a_taken_email_gets_a_notice_not_a_second_account(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    await register(mail_client, "dup@example.com")
    await mailbox.wait_for(1)
    body = {"email": "DUP@example.com", "password": PASSWORD, "full_name": "Visit spam.example now"}
    assert (await mail_client.post(f"{AUTH}/register", json=body)).status_code == 202
    _, notice = await mailbox.wait_for(2)
    assert notice["To"] == "dup@example.com"
    assert notice["Subject"] == "Someone tried to register at Test Shop with your email"
    text = text_of(notice)
    assert "reset it" in text
    assert "token=" not in text
    assert "spam.example" not in text + html_of(notice)
    await asyncio.sleep(0.3)
    assert len(mailbox.messages) == 2
    kinds = await sql(services.database_url, "SELECT kind FROM outbox ORDER BY created_at")
    assert [row["kind"] for row in kinds] == ["welcome", "account_exists"]
    assert len(await sql(services.database_url, "SELECT 1 FROM email_tokens")) == 1


async def test_registering_a_new_or_a_taken_email_takes_the_same_time(
    mail_client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mail_client, "taken@example.com")
    timings: dict[str, list[float]] = {"new": [], "taken": []}
    for n in range(7):
        for label, email in (("new", f"new{n}@example.com"), ("taken", "taken@example.com")):
            body = {"email": email, "password": PASSWORD, "full_name": "T"}
            started = time.perf_counter()
            response = await mail_client.post(f"{AUTH}/register", json=body)
            timings[label].append(time.perf_counter() - started)
            assert response.status_code == 202
    new, taken = (statistics.median(seen) for seen in timings.values())
    # Both hash once (~50 ms); a path that skipped the hash would differ by all of it.
    assert abs(new - taken) < max(0.025, new / 3), (new, taken)


async def test_messages_to_an_unverified_address_carry_no_text_the_requester_chose(
    mail_client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """Anyone may register someone else's address: the name they typed must not reach it, nor ride
    on a verification link, a reset link or a change notice to an address not proved yet."""
    name = "Cheap pills at spam.example"
    await register(mail_client, "victim@example.com", full_name=name)
    headers = await _signed_in(mail_client, "victim@example.com")
    await _reset_token(mail_client, mailbox, "victim@example.com")
    assert (await mail_client.post(f"{AUTH}/verify-email/resend", headers=headers)).status_code == 202
    change = {"email": "other@example.com", "current_password": PASSWORD}
    assert (await mail_client.patch(ME, json=change, headers=headers)).status_code == 200
    messages = await mailbox.wait_for(5)  # welcome, reset, verification, change notice, new verification
    assert len({m["Subject"] for m in messages}) == 4
    for message in messages:
        assert "spam.example" not in text_of(message) + html_of(message), message["Subject"]
        assert text_of(message).splitlines()[0] == "Hello,"


async def test_user_text_is_escaped_in_the_html_part(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    await register(mail_client, "html@example.com", full_name='<b>Ada</b> & "Co"')
    await mark_verified(services.database_url, "html@example.com")  # only then does mail name her
    await _reset_token(mail_client, mailbox, "html@example.com")
    message = mailbox.to("html@example.com")[-1]
    html = html_of(message)
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; &quot;Co&quot;" in html
    assert "<b>Ada" not in html
    assert '<b>Ada</b> & "Co"' in text_of(message)


async def test_bad_verification_tokens_are_422(mail_client: httpx.AsyncClient) -> None:
    for token in ["x" * 43, "", "has space", "a" * 129]:
        response = await mail_client.post(f"{AUTH}/verify-email", json={"token": token})
        assert_problem(response, 422, "validation-error")
    assert_problem(await mail_client.post(f"{AUTH}/verify-email", json={}), 422, "validation-error")


async def test_an_email_change_unverifies_links_the_new_address_and_tells_the_old_one(
    mail_client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mail_client, "old@example.com")
    (welcome,) = await mailbox.wait_for(1)
    headers = await _signed_in(mail_client, "old@example.com")
    assert (await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(welcome)})).status_code == 204
    old_reset = await _reset_token(mail_client, mailbox, "old@example.com")

    change = {"email": "new@example.com", "current_password": PASSWORD}
    response = await mail_client.patch(ME, json=change, headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["email_verified"]) == ("new@example.com", False)
    await mailbox.wait_for(4)
    (link,) = mailbox.to("new@example.com")
    (notice,) = [m for m in mailbox.to("old@example.com") if "changed" in m["Subject"]]
    assert "n**@example.com" in text_of(notice)
    assert "token=" not in text_of(notice)
    # The reset link that went to the old address died with the change.
    reset = {"token": old_reset, "new_password": NEW_PASSWORD}
    assert_problem(await mail_client.post(f"{AUTH}/password-reset/confirm", json=reset), 422, "validation-error")

    assert (await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(link)})).status_code == 204
    assert (await mail_client.get(ME, headers=headers)).json()["email_verified"] is True


async def test_a_link_for_a_former_address_does_not_verify_the_new_one(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    await register(mail_client, "first@example.com")
    (welcome,) = await mailbox.wait_for(1)
    headers = await _signed_in(mail_client, "first@example.com")
    # Bypass the service (which retires the old link) to check the last line: the address must match.
    await sql(services.database_url, "UPDATE users SET email = 'second@example.com' WHERE email = 'first@example.com'")
    response = await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(welcome)})
    assert_problem(response, 422, "validation-error")
    assert (await mail_client.get(ME, headers=headers)).json()["email_verified"] is False


async def test_resend_gives_a_new_link_and_kills_the_old_one(mail_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mail_client, "again@example.com")
    (welcome,) = await mailbox.wait_for(1)
    headers = await _signed_in(mail_client, "again@example.com")
    response = await mail_client.post(f"{AUTH}/verify-email/resend", headers=headers)
    assert response.status_code == 202
    assert "again@example.com" in response.json()["detail"]
    _, resent = await mailbox.wait_for(2)
    assert token_in(resent) != token_in(welcome)
    stale = await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(welcome)})
    assert_problem(stale, 422, "validation-error")
    assert (await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(resent)})).status_code == 204
    assert_problem(await mail_client.post(f"{AUTH}/verify-email/resend", headers=headers), 409, "conflict")
    assert_problem(await mail_client.post(f"{AUTH}/verify-email/resend"), 401, "unauthenticated")


async def test_resend_is_limited_per_account(services: Services, mailbox: Mailbox, clean: None) -> None:
    async with serving(services, SMTP_URL=mailbox.url, VERIFY_EMAIL_RATE_LIMIT_PER_HOUR="2") as client:
        await register(client, "limited@example.com")
        headers = await _signed_in(client, "limited@example.com")
        codes = [(await client.post(f"{AUTH}/verify-email/resend", headers=headers)).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


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
    token = await _reset_token(mail_client, mailbox, "reset@example.com")
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
    older = await _reset_token(mail_client, mailbox, "twice@example.com")
    newer = await _reset_token(mail_client, mailbox, "twice@example.com")
    stale = {"token": older, "new_password": NEW_PASSWORD}
    assert_problem(await mail_client.post(f"{AUTH}/password-reset/confirm", json=stale), 422, "validation-error")
    fresh = {"token": newer, "new_password": NEW_PASSWORD}
    assert (await mail_client.post(f"{AUTH}/password-reset/confirm", json=fresh)).status_code == 204


async def test_an_expired_reset_link_is_refused(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    await register(mail_client, "late@example.com")
    await mailbox.wait_for(1)
    token = await _reset_token(mail_client, mailbox, "late@example.com")
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
    token = await _reset_token(mail_client, mailbox, "gone@example.com")
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
