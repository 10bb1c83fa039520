"""The request body's deadline (docs/design.md#resilience-contract): a client that stalls or trickles
its body gets a 408 and loses the connection, instead of holding a worker's attention for as long
as it likes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from litestar.types import HTTPDisconnectEvent, HTTPScope, Message, Receive, ReceiveMessage, Send

from storefront.errors import DomainError, RequestTimeout

DISCONNECTED: Final = "storefront.disconnected"
"""Scope key set when the client went away (or was cut off) before its body arrived."""
_GONE: HTTPDisconnectEvent = {"type": "http.disconnect"}


def _mark_disconnected(scope: HTTPScope) -> None:
    # A key of Storefront's own (the error handler reads it): Litestar's TypedDict of the scope
    # names only Litestar's keys.
    scope[DISCONNECTED] = True  # type: ignore[typeddict-unknown-key]


class BodyDeadline:
    """Wraps one request's `receive` and `send`: the whole body must arrive within `seconds`.

    On expiry, if no response has started, `answer(RequestTimeout)` answers (a 408 with
    `Connection: close`, sent past this wrapper); the app then reads a disconnect and whatever it
    still sends is dropped.
    """

    __slots__ = ("_done", "_receive", "_send", "answer", "deadline", "expired", "scope", "seconds", "started")

    def __init__(
        self,
        scope: HTTPScope,
        receive: Receive,
        send: Send,
        seconds: int,
        answer: Callable[[DomainError], Awaitable[None]],
    ) -> None:
        self.scope, self._receive, self._send, self.seconds, self.answer = scope, receive, send, seconds, answer
        self.deadline = asyncio.get_running_loop().time() + seconds
        self.expired = self.started = self._done = False

    async def receive(self) -> ReceiveMessage:
        """The next body message, or a disconnect once the deadline has passed."""
        if self.expired:
            return _GONE
        if self._done:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.expired = True
            _mark_disconnected(self.scope)
            if not self.started:
                self.started = True
                await self.answer(RequestTimeout(self.seconds))
            return _GONE
        if message["type"] == "http.disconnect":
            _mark_disconnected(self.scope)
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._done = True
        return message

    async def send(self, message: Message) -> None:
        """Pass the app's response on, unless the deadline already answered for it."""
        if self.expired:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
