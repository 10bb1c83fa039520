"""How mail is set up: the relay's URL and its TLS defaults, what production requires, and the
development sink `serve` sends to when SMTP_URL is unset (listed by `just mail`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storefront.launch.mailsink import MailSink, stored_mail
from storefront.platform.mail import SmtpRelay
from tests.support.services import Services, live_server, make_settings

pytestmark = pytest.mark.anyio


def test_smtp_urls_parse_with_safe_tls_defaults() -> None:
    relay = SmtpRelay.from_url("smtp://us%40er:p%3Ass@mail.example.com")
    assert (relay.host, relay.port, relay.username, relay.password) == ("mail.example.com", 587, "us@er", "p:ss")
    assert (relay.implicit_tls, relay.require_starttls) == (False, True)
    assert SmtpRelay.from_url("smtps://mail.example.com").port == 465
    assert SmtpRelay.from_url("smtps://mail.example.com").implicit_tls
    assert not SmtpRelay.from_url("smtp://127.0.0.1:2525").require_starttls


def test_production_needs_a_relay_or_mail_disabled(services: Services) -> None:
    from storefront.platform.settings import SettingsError

    production = {"ENVIRONMENT": "production", "PUBLIC_BASE_URL": "https://shop.example.com"}
    with pytest.raises(SettingsError, match="SMTP_URL is required"):
        make_settings(services, **production)
    assert make_settings(services, **production, MAIL_DISABLED="true").mail.mail_disabled
    relay = make_settings(services, **production, SMTP_URL="smtps://u:p@mail.example.com")
    assert relay.mail.public_base_url == "https://shop.example.com"
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL is required"):
        make_settings(services, ENVIRONMENT="production", SMTP_URL="smtps://mail.example.com")
    for sender in ("not an address", "shop@example.com\r\nBcc: all@example.com", "a@b.c, d@e.f"):
        with pytest.raises(SettingsError, match="MAIL_FROM must be one address"):
            make_settings(services, MAIL_FROM=sender)
    with pytest.raises(SettingsError, match="SMTP_URL must be"):
        make_settings(services, SMTP_URL="http://mail.example.com")


def test_the_sink_keeps_each_message_and_lists_the_latest(tmp_path: Path) -> None:
    import smtplib
    from email.message import EmailMessage

    sink = MailSink(tmp_path)
    url = sink.start()
    try:
        for n in range(3):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "a@example.com", f"b{n}@example.com", f"n{n}"
            message.set_content(f"open http://localhost:8000/verify-email?token=tok{n} now\n")
            with smtplib.SMTP("127.0.0.1", int(url.rsplit(":", 1)[1])) as client:
                client.send_message(message)
    finally:
        sink.stop()
    latest = stored_mail(tmp_path, 2)
    assert [(m.to, m.subject, m.link) for m in latest] == [
        ("b2@example.com", "n2", "http://localhost:8000/verify-email?token=tok2"),
        ("b1@example.com", "n1", "http://localhost:8000/verify-email?token=tok1"),
    ]


async def test_serve_without_smtp_url_keeps_mail_for_just_mail(services: Services, clean: None) -> None:
    listing, port = await asyncio.to_thread(_register_and_list, services)
    assert "to sink@example.com" in listing
    assert "Welcome to Storefront" in listing
    assert f"http://localhost:{port}/verify-email?token=" in listing


def _register_and_list(services: Services) -> tuple[str, int]:
    """`serve` with SMTP_URL unset, a registration, then `storefront mail`: (its output, the port)."""
    with live_server(services) as server:
        body = {"email": "sink@example.com", "password": "correct horse battery", "full_name": "Sink"}
        assert httpx.post(f"{server.base}/api/v1/auth/register", json=body, timeout=10).status_code == 202
        deadline = time.monotonic() + 10
        while not list((server.data_dir / "mail").glob("*.eml")):
            assert time.monotonic() < deadline, "no .eml file"
            time.sleep(0.05)
        command = [sys.executable, "-m", "storefront", "mail"]
        listing = subprocess.run(command, env=server.env, capture_output=True, text=True, check=True).stdout
        return listing, server.port
