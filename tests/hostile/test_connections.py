"""Connection floods against the real server (`python -m storefront serve` on 127.0.0.1): idle
keep-alive connections, slow headers and slow bodies cannot keep a fresh client waiting, and a body
that does not arrive in time is a 408."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import storefront
from storefront.platform.launcher import open_files_limit
from tests.support.services import NO_LIMIT, TEST_SECRET, Services, free_port

pytestmark = pytest.mark.anyio
SRC = str(Path(storefront.__file__).resolve().parents[1])
FRESH_CLIENT_SECONDS = 1.0
Flood = Callable[[int], Awaitable[list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]]


class Server:
    """A running `storefront serve` on its own port, attached to the suite's PostgreSQL and Valkey."""

    def __init__(self, services: Services, **env: str) -> None:
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="sf-flood-"))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": SRC,
            "ENVIRONMENT": "test",
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": services.database_url,
            "VALKEY_URL": services.valkey_url,
            "SECRET_KEY": TEST_SECRET,
            "RATE_LIMIT_PER_MINUTE": NO_LIMIT,
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storefront", "serve"],
            env=self.env,
            cwd=self.data_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read().decode() if self.process.stderr else ""
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextlib.contextmanager
def serving(services: Services, **env: str) -> Iterator[Server]:
    server = Server(services, **env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


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
    with serving(services) as server:
        request = b"GET /health HTTP/1.1\r\nHost: flood\r\n\r\n"
        async with flooded(server.port, 2000, request, read_reply=True):
            await _fresh_client_answers_quickly(server.base)


async def test_slow_headers(services: Services, clean: None) -> None:
    with serving(services) as server:
        async with flooded(server.port, 1600, b"GET /health HTTP/1.1\r\nHost: fl"):
            await _fresh_client_answers_quickly(server.base)


async def test_slow_bodies_and_their_408(services: Services, clean: None) -> None:
    with serving(services, BODY_TIMEOUT_SECONDS="2") as server:
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
    with serving(services, HEADER_TIMEOUT_SECONDS="1") as server:
        async with flooded(server.port, 1, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", read_reply=True) as held:
            reader, _ = held[0]
            assert await asyncio.wait_for(reader.read(), 5) == b""  # EOF: closed while idle
