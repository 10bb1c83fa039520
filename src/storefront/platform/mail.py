"""SMTP: the relay SMTP_URL names (aiosmtplib). The development sink `serve` starts without one is
`storefront.launch.mailsink`, never imported by a worker.

`smtp://` connects in plain text and upgrades with STARTTLS, which is required unless the relay is on
loopback (a local relay or the sink); `smtps://` is TLS from the first byte. Credentials in the URL
are percent-decoded and only ever sent over TLS.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger("storefront.mail")


class SendError(Exception):
    """A message was not accepted; `permanent` when retrying cannot help (an SMTP 5xx reply)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    """Sends one message on an open session; raises SendError when it is refused."""

    async def __call__(self, message: EmailMessage) -> None: ...


MAX_ADDRESS_LENGTH = 254  # RFC 5321's 256-octet path, less its angle brackets
ADDRESS_SPECIALS = r'@\s,;:<>"()\[\]\\'
"""What no part of a plain address may hold: whitespace, and the characters that would make it a
display name (`a <b@x>`), a list (`a@x, b@y`), a group, a quoted string, a comment or a literal."""


def addr_spec_pattern(also_refused: str = "") -> str:
    """`local@domain.tld`, no part holding ADDRESS_SPECIALS or `also_refused` (a regex class body)."""
    part = rf"[^{ADDRESS_SPECIALS}{also_refused}]+"
    return rf"{part}@{part}\.{part}"


_ADDR_SPEC = re.compile(addr_spec_pattern(r"\x00-\x1f\x7f-\x9f"))


def plain_address(text: str) -> str:
    """`text` if it is one plain address (`local@domain`, see ADDRESS_SPECIALS), else ValueError."""
    if len(text) > MAX_ADDRESS_LENGTH or _ADDR_SPEC.fullmatch(text) is None:
        raise ValueError(f"not one plain address: {text!r}")
    return text


def envelope_recipient(message: EmailMessage) -> str:
    """The one recipient of `message`: its single `To`, which must be one plain address. The envelope
    is this address and nothing parsed from headers, so `a,victim@x` can never reach two mailboxes
    nor `a<victim@x>` reach victim@x. SendError (permanent) otherwise."""
    to = message.get_all("To") or []
    try:
        if len(to) != 1:
            raise ValueError(f"{len(to)} To headers")
        return plain_address(str(to[0]))
    except ValueError as exc:
        raise SendError(f"refused: {exc}", permanent=True) from None


@dataclass(frozen=True)
class SmtpRelay:
    """Where and how to connect, parsed once from SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool
    require_starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        """Parse `smtp://user:pass@host:587` or `smtps://user:pass@host:465` (ports default to 587 / 465)."""
        parts = urlsplit(url)
        implicit_tls = parts.scheme == "smtps"
        host = parts.hostname or "localhost"
        return cls(
            host=host,
            port=parts.port or (465 if implicit_tls else 587),
            implicit_tls=implicit_tls,
            require_starttls=not implicit_tls and not _is_loopback(host),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _send_error(exc: Exception) -> SendError:
    """Word an aiosmtplib error as a SendError: 5xx replies are permanent, the rest worth a retry."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        return SendError(f"recipient refused: {exc.recipients[0].message}", permanent=all(c >= 500 for c in codes))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"SMTP {exc.code}: {exc.message}", permanent=500 <= exc.code < 600)
    return SendError(f"{type(exc).__name__}: {exc}", permanent=False)


class SmtpTransport:
    """Opens one SMTP session per batch of messages; every wait is bounded by SMTP_TIMEOUT_SECONDS."""

    def __init__(self, url: str, timeout: float) -> None:
        self.relay = SmtpRelay.from_url(url)
        self.timeout = timeout

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Sender]:
        """A connected, authenticated session (`async with`); SendError when it cannot be had."""
        relay = self.relay
        client = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            use_tls=relay.implicit_tls,
            start_tls=True if relay.require_starttls else None,
            username=relay.username,
            password=relay.password,
            timeout=self.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _send_error(exc) from exc

        async def send(message: EmailMessage) -> None:
            recipient = envelope_recipient(message)
            try:
                await client.send_message(message, recipients=[recipient])
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise _send_error(exc) from exc

        try:
            yield send
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            client.close()


class DiscardTransport:
    """MAIL_DISABLED: every message is logged (recipient and subject only) and dropped."""

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Sender]:
        """A session that accepts everything."""

        async def send(message: EmailMessage) -> None:
            log.info(
                "mail disabled: message dropped", extra={"to": str(message["To"]), "subject": str(message["Subject"])}
            )

        yield send
