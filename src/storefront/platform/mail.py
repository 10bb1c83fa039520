"""SMTP: the relay SMTP_URL names (aiosmtplib), and the local sink `serve` starts without one (aiosmtpd).

`smtp://` connects in plain text and upgrades with STARTTLS, which is required unless the relay is on
loopback (a local relay or the sink); `smtps://` is TLS from the first byte. Credentials in the URL
are percent-decoded and only ever sent over TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import ipaddress
import logging
import os
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from aiosmtpd.smtp import SMTP as SmtpServerProtocol
from aiosmtpd.smtp import Envelope, Session

log = logging.getLogger("storefront.mail")
MAIL_DIR = "mail"
_LINK = re.compile(r"https?://\S+[?&]token=[\w-]+")


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


# The local sink ---------------------------------------------------------------------------------


class _StoreHandler:
    """aiosmtpd handler: each message becomes `<time>-<n>.eml` in the folder, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.count += 1
        path = self.directory / f"{time.time_ns()}-{os.getpid()}-{self.count}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.rename(path)
        message = email.message_from_bytes(content, policy=email.policy.default)
        log.info("mail stored", extra={"to": str(message["To"]), "subject": str(message["Subject"]), "file": str(path)})
        return "250 Message accepted for delivery"


class MailSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of its own) that keeps every message it
    receives as an `.eml` file (or gives it to another aiosmtpd `handler`): the development stand-in
    for a relay. `start()` returns its SMTP_URL; it may be stopped and started again on its port."""

    def __init__(self, directory: Path, port: int = 0, handler: Any = None) -> None:
        self.directory = directory
        self.port = port
        self.handler = handler or _StoreHandler(directory)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The sink's SMTP_URL."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Listen (on PORT, or a free port when 0) and return the SMTP_URL to reach the sink."""
        self.directory.mkdir(parents=True, exist_ok=True)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
        loop = asyncio.new_event_loop()
        handler = self.handler
        thread = threading.Thread(target=loop.run_forever, name="mail-sink", daemon=True)
        thread.start()
        listening = loop.create_server(
            lambda: SmtpServerProtocol(handler, hostname="storefront-mail-sink", enable_SMTPUTF8=True, loop=loop),
            host="127.0.0.1",
            port=self.port,
        )
        try:
            server = asyncio.run_coroutine_threadsafe(listening, loop).result(timeout=10)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            raise
        self.port = server.sockets[0].getsockname()[1]
        self._loop, self._server, self._thread = loop, server, thread
        return self.url

    def stop(self) -> None:
        """Stop listening and end the thread."""
        loop, server, thread = self._loop, self._server, self._thread
        if loop is None or server is None or thread is None:
            return

        async def close() -> None:
            server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2)

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._server = self._thread = None


@dataclass(frozen=True)
class StoredMail:
    """One message the sink kept: when, to whom, its subject, and the first link with a token."""

    path: Path
    date: str
    to: str
    subject: str
    link: str | None


def stored_mail(directory: Path, limit: int = 10) -> list[StoredMail]:
    """The latest `limit` messages of the sink's folder, newest first."""
    paths = sorted(directory.glob("*.eml"), key=lambda p: p.name, reverse=True)[:limit]
    found = []
    for path in paths:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) else None
        text = body.get_content() if body is not None else ""
        match = _LINK.search(text)
        found.append(
            StoredMail(
                path=path,
                date=str(message["Date"] or ""),
                to=str(message["To"] or ""),
                subject=str(message["Subject"] or ""),
                link=match[0] if match else None,
            )
        )
    return found
