"""Email verification and email change, through the HTTP surface and a real SMTP server (aiosmtpd
in the test process); the password reset is in test_password_reset.py."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from tests.support.http import PASSWORD, assert_problem, mark_verified, register, signed_in
from tests.support.mail import Mailbox, html_of, reset_token, text_of, token_in
from tests.support.services import Services, serving
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


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
    me = await mail_client.get(ME, headers=await signed_in(mail_client, "ada@example.com"))
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
    headers = await signed_in(mail_client, "victim@example.com")
    await reset_token(mail_client, mailbox, "victim@example.com")
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
    await reset_token(mail_client, mailbox, "html@example.com")
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
    headers = await signed_in(mail_client, "old@example.com")
    assert (await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(welcome)})).status_code == 204
    old_reset = await reset_token(mail_client, mailbox, "old@example.com")

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
    headers = await signed_in(mail_client, "first@example.com")
    # Bypass the service (which retires the old link) to check the last line: the address must match.
    await sql(services.database_url, "UPDATE users SET email = 'second@example.com' WHERE email = 'first@example.com'")
    response = await mail_client.post(f"{AUTH}/verify-email", json={"token": token_in(welcome)})
    assert_problem(response, 422, "validation-error")
    assert (await mail_client.get(ME, headers=headers)).json()["email_verified"] is False


async def test_resend_gives_a_new_link_and_kills_the_old_one(mail_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mail_client, "again@example.com")
    (welcome,) = await mailbox.wait_for(1)
    headers = await signed_in(mail_client, "again@example.com")
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
        headers = await signed_in(client, "limited@example.com")
        codes = [(await client.post(f"{AUTH}/verify-email/resend", headers=headers)).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
