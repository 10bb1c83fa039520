"""The request body's deadline (docs/design.md#resilience-contract): a client that stalls or trickles
its body gets a 408 and loses the connection, instead of holding a worker's attention for as long
as it likes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
"""An ASGI scope or message, as the outer layer handles them."""
DISCONNECTED = "storefront.disconnected"
"""Scope key set when the client went away (or was cut off) before its body arrived."""
_GONE: Message = {"type": "http.disconnect"}


class BodyDeadline:
    """Wraps one request's `receive` and `send`: the whole body must arrive within `seconds`.

    On expiry, if no response has started, `on_expiry()` answers (a 408 with `Connection: close`,
    sent by the caller); the app then reads a disconnect and whatever it still sends is dropped.
    """

    __slots__ = ("_done", "_receive", "_send", "answered", "deadline", "expired", "on_expiry", "scope", "started")

    def __init__(
        self, scope: Message, receive: Any, send: Any, seconds: float, on_expiry: Callable[[], Awaitable[None]]
    ) -> None:
        self.scope, self._receive, self._send, self.on_expiry = scope, receive, send, on_expiry
        self.deadline = asyncio.get_running_loop().time() + seconds
        self.expired = self.started = self.answered = self._done = False

    async def receive(self) -> Message:
        """The next body message, or a disconnect once the deadline has passed."""
        if self.expired:
            return _GONE
        if self._done:
            return await self._receive()  # type: ignore[no-any-return]
        try:
            async with asyncio.timeout_at(self.deadline):
                message: Message = await self._receive()
        except TimeoutError:
            self.expired = True
            self.scope[DISCONNECTED] = True
            if not self.started:
                self.started = self.answered = True
                await self.on_expiry()
            return _GONE
        if message["type"] == "http.disconnect":
            self.scope[DISCONNECTED] = True
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
