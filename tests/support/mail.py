"""A real SMTP server for the tests: aiosmtpd in the test process, keeping what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from storefront.launch.mailsink import MailSink

LINK = re.compile(r"https?://\S+[?&]token=([\w-]+)")


def handled_sink(handler: Any) -> MailSink:
    """The development sink with another aiosmtpd handler in place of its `.eml` store, in a folder
    of its own (not started)."""
    sink = MailSink(Path(tempfile.mkdtemp(prefix="sf-mail-")))
    sink.handler = handler
    return sink


class Recorder:
    """aiosmtpd handler: parses and keeps every message; `stall()` makes DATA wait until `release()`,
    `refuse(code)` answers DATA with an SMTP error instead."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.stalled = threading.Event()  # set once a DATA is being held
        self._hold: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._hold is not None:
            self.stalled.set()
            await self._hold.wait()
        if self.reply is not None:
            return self.reply
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def stall(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._hold = asyncio.Event()

    def release(self) -> None:
        hold, loop = self._hold, self._loop
        self._hold = None
        if hold is not None and loop is not None:
            loop.call_soon_threadsafe(hold.set)


class Mailbox:
    """The test SMTP server: `url` for SMTP_URL, `messages` received, stop and start on one port."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.sink = handled_sink(self.recorder)
        self.sink.start()

    @property
    def url(self) -> str:
        return self.sink.url

    @property
    def messages(self) -> list[EmailMessage]:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def clear(self) -> None:
        with self.recorder.lock:
            self.recorder.messages.clear()
        self.recorder.reply = None

    def stop(self) -> None:
        self.sink.stop()

    def start(self) -> None:
        self.sink.start()

    def stall(self) -> None:
        """Hold every DATA command until `release()` (the sender sits mid-send)."""
        assert self.sink._loop is not None
        self.recorder.stall(self.sink._loop)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, count: int, seconds: float = 10.0) -> list[EmailMessage]:
        """The messages once at least `count` have arrived (AssertionError after `seconds`)."""
        deadline = time.monotonic() + seconds
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} messages arrived"
            await asyncio.sleep(0.02)
        return self.messages


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def token_in(message: EmailMessage) -> str:
    """The token of the link in a message's text part."""
    match = LINK.search(text_of(message))
    assert match, text_of(message)
    return match[1]


async def reset_token(client: httpx.AsyncClient, mailbox: Mailbox, email: str) -> str:
    """Ask for a reset link for `email` and return its token, once the message has arrived."""
    before = len(mailbox.to(email))
    response = await client.post("/api/v1/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    for _ in range(500):
        if len(mailbox.to(email)) > before:
            return token_in(mailbox.to(email)[-1])
        await asyncio.sleep(0.02)
    raise AssertionError("no reset message")
