"""Connection floods against the real server (`python -m storefront serve` on 127.0.0.1): idle
keep-alive connections, slow headers and slow bodies cannot keep a fresh client waiting, and a body
that does not arrive in time is a 408."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from storefront.launch.serve import open_files_limit
from tests.support.services import Services, live_server

pytestmark = pytest.mark.anyio
FRESH_CLIENT_SECONDS = 1.0


@pytest.fixture(autouse=True)
def enough_files() -> None:
    if open_files_limit() < 5000:
        pytest.skip("needs an open-files limit of 5000 or more")


async def _connections(port: int, count: int, payload: bytes, read_reply: bool = False) -> list[Any]:
    """`count` connections that each send `payload` (and read one reply, if asked)."""

    async def one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        if read_reply:  # the whole small answer, so that the connection is idle, kept alive
            await reader.readuntil(b"\r\n\r\n")
            assert await reader.read(4096)
        return reader, writer

    opened: list[Any] = []
    for start in range(0, count, 200):  # in waves: the backlog is not what is under test here
        opened += await asyncio.gather(*(one() for _ in range(min(200, count - start))))
    return opened


async def _fresh_client_answers_quickly(base: str) -> None:
    """A new client's readiness check and an ordinary read, each within a second."""
    async with httpx.AsyncClient(base_url=base, timeout=FRESH_CLIENT_SECONDS * 5) as client:
        for path in ("/health/ready", "/api/v1/items?limit=1"):
            started = time.monotonic()
            response = await client.get(path)
            elapsed = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert elapsed < FRESH_CLIENT_SECONDS, f"{path} took {elapsed:.2f} s"


@contextlib.asynccontextmanager
async def flooded(port: int, count: int, payload: bytes, read_reply: bool = False) -> AsyncIterator[list[Any]]:
    held = await _connections(port, count, payload, read_reply)
    try:
        yield held
    finally:
        for _, writer in held:
            writer.transport.abort()


async def test_two_thousand_idle_keep_alive_connections(services: Services, clean: None) -> None:
    with live_server(services) as server:
        request = b"GET /health HTTP/1.1\r\nHost: flood\r\n\r\n"
        async with flooded(server.port, 2000, request, read_reply=True):
            await _fresh_client_answers_quickly(server.base)


async def test_slow_headers(services: Services, clean: None) -> None:
    with live_server(services) as server:
        async with flooded(server.port, 1600, b"GET /health HTTP/1.1\r\nHost: fl"):
            await _fresh_client_answers_quickly(server.base)


async def test_slow_bodies_and_their_408(services: Services, clean: None) -> None:
    with live_server(services, BODY_TIMEOUT_SECONDS="2") as server:
        head = (
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: flood\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        async with flooded(server.port, 1600, head) as held:
            await _fresh_client_answers_quickly(server.base)
            started = time.monotonic()
            reader, _ = held[0]
            reply = await asyncio.wait_for(reader.read(), 10)  # up to EOF: the server closes
            assert time.monotonic() - started < 3
            head_part, _, body = reply.partition(b"\r\n\r\n")
            assert head_part.startswith(b"HTTP/1.1 408")
            assert b"application/problem+json" in head_part.lower()
            assert json.loads(body)["type"] == "/problems/request-timeout"


async def test_idle_connections_are_closed_after_the_header_timeout(services: Services, clean: None) -> None:
    with live_server(services, HEADER_TIMEOUT_SECONDS="1") as server:
        async with flooded(server.port, 1, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", read_reply=True) as held:
            reader, _ = held[0]
            assert await asyncio.wait_for(reader.read(), 5) == b""  # EOF: closed while idle
