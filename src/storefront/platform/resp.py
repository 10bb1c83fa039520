"""A minimal pipelined Valkey connection: every command of a worker shares one connection.

The rate-limit EVALSHA runs on every request. Measured at 32 in flight (`just bench
--valkey-clients`), valkey-py spends 60-90 µs of client CPU per call (a pool checkout, retry and
timeout wrappers, a general parser; 76 µs with libvalkey's C parser), valkey-glide 64-74 µs and
coredis ~160 µs; this connection ~20 µs: a command is one `write`, and replies are matched to
callers in order (Valkey answers in order). The URL is read by valkey-py's parser, and errors are
valkey-py's exception types.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from typing import Any

from valkey.asyncio.connection import SSLConnection, parse_url
from valkey.exceptions import ConnectionError as ValkeyConnectionError
from valkey.exceptions import NoScriptError, ResponseError
from valkey.exceptions import TimeoutError as ValkeyTimeoutError

_INCOMPLETE = object()


class ReplyError(Exception):
    """An error reply (`-ERR …`) parsed off the wire, raised to the caller that sent the command."""


def pack(*args: Any) -> bytes:
    """One command in the RESP wire format."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def parse(buffer: bytes | bytearray, pos: int) -> tuple[Any, int]:
    """One reply starting at `pos`: (value, next position), or (_INCOMPLETE, pos) if more bytes are due."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        return _INCOMPLETE, pos
    kind, line, after = buffer[pos], bytes(buffer[pos + 1 : end]), end + 2
    if kind == 0x3A:  # ':'
        return int(line), after
    if kind == 0x2B:  # '+'
        return line, after
    if kind == 0x2D:  # '-'
        return ReplyError(line.decode(errors="replace")), after
    if kind == 0x24:  # '$'
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            return _INCOMPLETE, pos
        return bytes(buffer[after : after + size]), after + size + 2
    if kind == 0x2A:  # '*'
        items = []
        for _ in range(max(int(line), 0)):
            item, after = parse(buffer, after)
            if item is _INCOMPLETE:
                return _INCOMPLETE, pos
            items.append(item)
        return items, after
    raise ValueError(f"unexpected reply type {chr(kind)!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        pos = 0
        while self.waiters:
            value, after = parse(self.buffer, pos)
            if value is _INCOMPLETE:
                break
            pos = after
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(value)
        del self.buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ValkeyConnectionError("connection to Valkey lost"))


class PipelinedValkey:
    """One shared, lazily (re)connected connection; `execute` sends a command and awaits its reply."""

    def __init__(self, url: str, timeout: float, connect_timeout: float) -> None:
        options = parse_url(url)
        self.unix_path: str | None = options.get("path")
        self.host, self.port = options.get("host") or "127.0.0.1", options.get("port") or 6379
        secure = issubclass(options.get("connection_class", object), SSLConnection)
        self.tls = ssl.create_default_context() if secure else None
        self.username: str | None = options.get("username")
        self.password: str | None = options.get("password")
        self.db = int(options.get("db") or 0)
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def execute(self, *args: Any) -> Any:
        """Send one command; its reply, or ResponseError / NoScriptError / ConnectionError / TimeoutError."""
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            protocol = await self._connect()
        return await self._send(protocol, args)

    async def _send(self, protocol: _Protocol, args: tuple[Any, ...]) -> Any:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        assert protocol.transport is not None
        protocol.waiters.append(waiter)
        protocol.transport.write(pack(*args))
        expiry = loop.call_later(self.timeout, self._expire, protocol, waiter)
        try:
            reply = await waiter
        finally:
            expiry.cancel()
        if isinstance(reply, ReplyError):
            message = str(reply)
            raise NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)
        return reply

    @staticmethod
    def _expire(protocol: _Protocol, waiter: asyncio.Future[Any]) -> None:
        """A late reply would desynchronise nothing (replies stay in order), but a hung server should
        not collect waiters: drop the connection; the next command reconnects."""
        if not waiter.done():
            waiter.set_exception(ValkeyTimeoutError("Valkey did not answer in time"))
            if protocol.transport is not None:
                protocol.transport.abort()

    async def _connect(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            current = self._protocol
            if current is not None and current.transport is not None and not current.transport.is_closing():
                return current
            loop = asyncio.get_running_loop()
            try:
                if self.unix_path is not None:
                    opening = loop.create_unix_connection(_Protocol, self.unix_path)
                else:
                    opening = loop.create_connection(_Protocol, self.host, self.port, ssl=self.tls)
                _, protocol = await asyncio.wait_for(opening, self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise ValkeyConnectionError(f"cannot connect to Valkey: {exc!r}") from exc
            await self._handshake(protocol)
            self._protocol = protocol
            return protocol

    async def _handshake(self, protocol: _Protocol) -> None:
        """AUTH and SELECT on a new connection. On any failure the socket is closed (it is never
        stored, so nothing else would close it), and an error reply becomes a ConnectionError: a
        connection that cannot authenticate is down, and the caller's breaker must see it so."""
        try:
            if self.password is not None:
                credentials = (self.username, self.password) if self.username else (self.password,)
                await self._send(protocol, ("AUTH", *credentials))
            if self.db:
                await self._send(protocol, ("SELECT", self.db))
        except ResponseError as exc:
            self._drop(protocol)
            raise ValkeyConnectionError(f"Valkey refused the handshake: {exc}") from exc
        except BaseException:
            self._drop(protocol)
            raise

    @staticmethod
    def _drop(protocol: _Protocol) -> None:
        if protocol.transport is not None:
            protocol.transport.close()

    def close(self) -> None:
        """Close the connection (the worker is stopping)."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None
