"""The development stand-in for a relay: a real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every
message as an `.eml` file in DATA_DIR/mail/, and `just mail`'s reader of that folder. Started by
`serve` and `cluster` when SMTP_URL is unset; never imported by a worker."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP as SmtpServerProtocol
from aiosmtpd.smtp import Envelope, Session

log = logging.getLogger("storefront.mail")
MAIL_DIR = "mail"
_LINK = re.compile(r"https?://\S+[?&]token=[\w-]+")


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
    receives as an `.eml` file: the development stand-in for a relay. `start()` returns its SMTP_URL;
    it may be stopped and started again on its port."""

    def __init__(self, directory: Path, port: int = 0) -> None:
        self.directory = directory
        self.port = port
        self.handler: Any = _StoreHandler(directory)  # an aiosmtpd handler
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
