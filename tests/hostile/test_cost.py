"""No request costs more than it pays: an oversized or field-flooded body on the auth routes is
refused before it is parsed, and JSON nested at any depth is a 4xx, never a 500."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from storefront.web.conventions import MAX_FORM_FIELDS, SMALL_BODY_BYTES
from tests.support.http import assert_problem, customer
from tests.support.services import Services, live_server, serving

pytestmark = pytest.mark.anyio
LOGIN = "/api/v1/auth/login"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
FLOOD_FORM = b"a=&" * (1_048_576 // 3)  # just under the general 1 MiB cap: ~350,000 blank fields
CPU_BOUND_SECONDS = 0.02  # the unbounded parse took ~250 ms; a refusal takes well under 1 ms


async def _cpu_of(client: httpx.AsyncClient, content: Any, status: int) -> float:
    """The process CPU one login request with `content` costs (app and client in this process)."""
    started = time.process_time()
    response = await client.post(LOGIN, content=content, headers=FORM_HEADERS)
    spent = time.process_time() - started
    assert_problem(response, status, {413: "payload-too-large", 400: "malformed-request"}[status])
    return spent


async def test_a_megabyte_login_form_is_refused_before_it_is_parsed(services: Services, clean: None) -> None:
    async with serving(services) as client:
        await client.post(LOGIN, content=b"username=a", headers=FORM_HEADERS)  # warm the route up
        spent = min([await _cpu_of(client, FLOOD_FORM, 413) for _ in range(3)])
        response = await client.post(LOGIN, content=FLOOD_FORM, headers=FORM_HEADERS)
    assert spent < CPU_BOUND_SECONDS, f"{spent * 1000:.1f} ms of CPU"
    assert "4 KiB" in response.json()["detail"]


async def _chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    for _ in range(total // size):
        yield b"a=&" * (size // 3) + b"a" * (size % 3)


async def test_a_chunked_body_is_cut_off_once_it_passes_the_cap(services: Services, clean: None) -> None:
    async with serving(services) as client:
        await client.post(LOGIN, content=b"username=a", headers=FORM_HEADERS)
        spent = min([await _cpu_of(client, _chunks(1_048_576), 413) for _ in range(3)])
    assert spent < CPU_BOUND_SECONDS, f"{spent * 1000:.1f} ms of CPU"


async def test_a_form_of_many_small_fields_is_400_before_it_is_split(client: AsyncTestClient[Any]) -> None:
    body = b"&".join([b"username=a%40b.co", b"password=x", *[b"a=" for _ in range(MAX_FORM_FIELDS)]])
    assert len(body) < SMALL_BODY_BYTES
    response = await client.post(LOGIN, content=body, headers=FORM_HEADERS)
    assert_problem(response, 400, "malformed-request")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/password-reset"),
        ("POST", "/api/v1/auth/password-reset/confirm"),
        ("POST", "/api/v1/users/me/password"),
        ("PATCH", "/api/v1/users/me"),
    ],
)
async def test_auth_and_account_routes_take_small_bodies_only(
    client: AsyncTestClient[Any], method: str, path: str
) -> None:
    _, headers = await customer(client)
    body = b'{"email": "' + b"a" * SMALL_BODY_BYTES + b'"}'
    response = await client.request(method, path, content=body, headers={**headers, "Content-Type": "application/json"})
    assert_problem(response, 413, "payload-too-large")


async def _ready_latencies(base: str, stop: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
            started = time.monotonic()
            response = await client.get("/health/ready")
            latencies.append(time.monotonic() - started)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.02)
    return latencies


async def _flood(base: str, count: int) -> list[int]:
    async def one(client: httpx.AsyncClient) -> int:
        try:
            return (await client.post(LOGIN, content=FLOOD_FORM, headers=FORM_HEADERS)).status_code
        except httpx.TransportError:  # the server may answer and close before taking the whole body
            return 413

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        return await asyncio.gather(*(one(client) for _ in range(count)))


async def test_a_flood_of_megabyte_forms_leaves_readiness_answering(services: Services, clean: None) -> None:
    with live_server(services) as server:
        stop = asyncio.Event()
        probe = asyncio.create_task(_ready_latencies(server.base, stop))
        await asyncio.sleep(0.1)
        for _ in range(3):
            statuses = await _flood(server.base, 20)
            assert set(statuses) == {413}, statuses
        stop.set()
        latencies = await probe
    # Generous bounds (a shared 2-core box): the unbounded parse stalled the worker for ~5 s a wave.
    assert statistics.median(latencies) < 0.25, latencies
    assert max(latencies) < 1.5, latencies


def _nested(depth: int, quantity: str) -> bytes:
    line = b'{"item_id": "00000000-0000-4000-8000-000000000001", "quantity": ' + quantity.encode() + b"}"
    return b'{"lines": [' + line + b'], "z": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [100, 3_000, 100_000])
@pytest.mark.parametrize("quantity", ["1.5", "1.0", "1"])
async def test_json_nested_at_any_depth_is_a_4xx_never_a_500(
    client: AsyncTestClient[Any], admin_headers: dict[str, str], depth: int, quantity: str
) -> None:
    headers = {**admin_headers, "Content-Type": "application/json"}
    for path in ("/api/v1/orders", "/api/v1/items"):
        response = await client.post(path, content=_nested(depth, quantity), headers=headers)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"] == "application/problem+json"
