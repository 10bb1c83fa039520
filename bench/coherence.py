"""`cache-coherence`: two Storefront instances on one database and one Valkey. A writer changes one
item's price on instance A (as an admin) at a steady pace while readers poll that item on instance
B; each write's invalidation delay is the time from A's answer to the first answer of B with the new
ETag, and a read sent more than 50 ms after a write was answered must show it. Plain asyncio + httpx:
this measures coherence, not throughput."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from bench.staleness import Read, Write
from bench.wrk import WrkResult

TIMEOUT = 10.0
LINGER = 0.5  # the readers go on this long after the last write, so it can show on B
WARM_READS = 20


@dataclass
class Side:
    """One side's requests: each answer's latency (s), the failed ones, and the span they covered."""

    latencies: list[float] = field(default_factory=list)
    socket_errors: int = 0
    non_2xx: int = 0
    started: float = 0.0
    ended: float = 0.0

    def result(self) -> WrkResult:
        """The side as a wrk result (req/s, latency percentiles, errors), for the tables."""
        ordered = sorted(self.latencies) or [0.0]
        seconds = max(self.ended - self.started, 1e-9)

        def at(share: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 3)

        requests = len(self.latencies) + self.socket_errors
        return WrkResult(
            requests=requests,
            seconds=round(seconds, 3),
            rps=round(requests / seconds, 1),
            p50_ms=at(0.50),
            p95_ms=at(0.95),
            p99_ms=at(0.99),
            max_ms=round(ordered[-1] * 1000, 3),
            socket_errors=self.socket_errors,
            non_2xx=self.non_2xx,
        )


def version_of(response: httpx.Response) -> int | None:
    """The item version a 200 answer's strong ETag names (`"7"` → 7)."""
    tag = response.headers.get("etag", "")
    return int(tag.strip('"')) if response.status_code == 200 and tag.strip('"').isdigit() else None


async def _request(
    client: httpx.AsyncClient, side: Side, method: str, url: str, **kwargs: object
) -> tuple[float, float, int | None]:
    """Send one request; (sent, answered, version) — version None when it failed."""
    sent = time.monotonic()
    try:
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError:
        side.socket_errors += 1
        return sent, time.monotonic(), None
    answered = time.monotonic()
    side.latencies.append(answered - sent)
    if response.status_code >= 400:
        side.non_2xx += 1
    return sent, answered, version_of(response)


async def _writer(
    base: str, token: str, path: str, seconds: float, rate: float, writes: list[Write], side: Side
) -> None:
    """PATCH the item's price `rate` times a second for `seconds`, each write after the last's answer."""
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, headers=headers) as client:
        side.started = start = time.monotonic()
        count = 0
        while time.monotonic() < start + seconds:
            body = {"price_cents": 1000 + count % 2}  # every write changes the price
            _, answered, version = await _request(client, side, "PATCH", path, json=body)
            if version is not None:
                writes.append(Write(answered, version))
            count += 1
            await asyncio.sleep(max(0.0, start + count / rate - time.monotonic()))
        side.ended = time.monotonic()


async def _reader(base: str, path: str, stop: asyncio.Event, reads: list[Read], side: Side) -> None:
    """GET the item on one connection until `stop`, each read sent on the last one's answer."""
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client:
        while not stop.is_set():
            sent, answered, version = await _request(client, side, "GET", path)
            if version is not None:
                reads.append(Read(sent, answered, version))


async def _run(
    a: str, b: str, token: str, item: str, seconds: float, rate: float, readers: int
) -> tuple[list[Write], list[Read], Side, Side]:
    path = f"/api/v1/items/{item}"
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:  # both instances have read the item
        for _ in range(WARM_READS):
            await client.get(a + path)
            await client.get(b + path)
    writes: list[Write] = []
    reads: list[Read] = []
    write_side, read_side = Side(), Side()
    stop = asyncio.Event()
    read_side.started = time.monotonic()
    polling = [asyncio.create_task(_reader(b, path, stop, reads, read_side)) for _ in range(readers)]
    await asyncio.sleep(0.2)  # the readers are under way before the first write
    await _writer(a, token, path, seconds, rate, writes, write_side)
    await asyncio.sleep(LINGER)
    stop.set()
    await asyncio.gather(*polling)
    read_side.ended = time.monotonic()
    return writes, reads, write_side, read_side


def run(
    a: str, b: str, token: str, item: str, seconds: float, rate: float, readers: int
) -> tuple[list[Write], list[Read], Side, Side]:
    """Writes on `a` (base URL) as `token`'s admin, reads of the same item on `b`: (writes, reads,
    the writer's side, the readers' side)."""
    return asyncio.run(_run(a, b, token, item, seconds, rate, readers))
