"""Mail reaches exactly the one address it is for: a recipient that a header parser would read as a
list, a display name or a group is never sent, whatever put it in the outbox."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from storefront.platform.mail import SendError, SmtpTransport, plain_address
from tests.support.mail import Mailbox, handled_sink
from tests.support.services import Services
from tests.support.shop import sql

pytestmark = pytest.mark.anyio
SPOOFED = ["x,victim@corp.com", "a<victim@corp.com>", "Ann <victim@corp.com>", "x@a.example, victim@corp.com"]


class Envelopes:
    """aiosmtpd handler keeping each message's envelope recipients."""

    def __init__(self) -> None:
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.mark.parametrize("bad", SPOOFED)
def test_plain_address_refuses_anything_but_one_addr_spec(bad: str) -> None:
    with pytest.raises(ValueError, match="not one plain address"):
        plain_address(bad)
    assert plain_address("ada@example.com") == "ada@example.com"


async def test_the_smtp_envelope_is_the_one_plain_to_address_and_nothing_else() -> None:
    envelopes = Envelopes()
    sink = handled_sink(envelopes)
    url = sink.start()
    try:
        async with SmtpTransport(url, 5.0).session() as send:
            plain = EmailMessage()
            plain["From"], plain["To"] = "shop@example.com", "ada@example.com"
            plain["Cc"], plain["Bcc"] = "cc@corp.com", "bcc@corp.com"
            await send(plain)
            for bad in SPOOFED:
                message = EmailMessage()
                message["From"], message["To"] = "shop@example.com", bad
                with pytest.raises(SendError, match="refused") as refused:
                    await send(message)
                assert refused.value.permanent
            nobody = EmailMessage()
            nobody["From"] = "shop@example.com"
            with pytest.raises(SendError, match="0 To headers"):
                await send(nobody)
    finally:
        sink.stop()
    assert envelopes.recipients == [["ada@example.com"]]


async def test_an_outbox_row_for_a_list_or_a_display_name_fails_for_good_unsent(
    mail_client: httpx.AsyncClient, mailbox: Mailbox, services: Services
) -> None:
    rows = [(recipient, '{"name": "N"}') for recipient in [*SPOOFED, "fine@example.com"]]
    for recipient, payload in rows:
        await sql(
            services.database_url,
            "INSERT INTO outbox (kind, recipient, payload) VALUES ('password_changed', $1, $2::jsonb)",
            recipient,
            payload,
        )
    await mailbox.wait_for(1)
    await asyncio.sleep(0.5)
    assert [m["To"] for m in mailbox.messages] == ["fine@example.com"]
    failed = await sql(services.database_url, "SELECT recipient, last_error FROM outbox WHERE failed_at IS NOT NULL")
    assert sorted(row["recipient"] for row in failed) == sorted(SPOOFED)
    assert all("not one plain address" in row["last_error"] for row in failed)
