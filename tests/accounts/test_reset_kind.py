"""The password-reset link has one name, `reset_password`, for its outbox kind and its token's
purpose, written once (the Python constants); a link an older worker queues under the former name
is still delivered, and works."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from storefront.accounts import emails, links
from storefront.accounts.security import new_email_token
from storefront.platform.project import SQL_DIR
from tests.support.http import register
from tests.support.mail import Mailbox, token_in
from tests.support.services import TEST_SECRET, Services
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
NAMES = {emails.RESET_PASSWORD, *emails.FORMER_KINDS}


def test_the_kind_and_the_purpose_are_one_name_written_once_in_python() -> None:
    assert links.RESET_PURPOSE == emails.RESET_PASSWORD == "reset_password"
    for path in sorted((SQL_DIR / "queries").glob("*.sql")):
        literals = set(re.findall(r"'([a-z_]+)'", path.read_text()))
        assert literals.isdisjoint(NAMES), f"{path.name} spells the reset link's name: the query takes it"


@pytest.mark.parametrize("former", sorted(emails.FORMER_KINDS))
async def test_a_reset_link_an_older_worker_queued_under_the_former_kind_is_delivered_and_works(
    former: str, mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    user = await register(mail_client, "older@example.com")
    await mailbox.wait_for(1)
    nonce, token_hash = new_email_token(TEST_SECRET)
    # What the previous version's `request_password_reset` writes (purpose unchanged, former kind).
    token = "INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at) VALUES ($1, $2, $3, $4, now() + interval '30 minutes')"
    await sql(services.database_url, token, token_hash, user["id"], links.RESET_PURPOSE, user["email"])
    queue = "INSERT INTO outbox (kind, recipient, payload) VALUES ($1, $2, $3::jsonb)"
    await sql(services.database_url, queue, former, user["email"], json.dumps({"name": None, "nonce": nonce}))

    (*_, link) = await mailbox.wait_for(2)
    assert link["Subject"] == "Reset your Test Shop password"
    body = {"token": token_in(link), "new_password": "a brand new passphrase"}
    assert (await mail_client.post("/api/v1/auth/password-reset/confirm", json=body)).status_code == 204
