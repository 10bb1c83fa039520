"""Pure rules of the orders domain: the transient-failure retry and the request fingerprint."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
import pytest

from storefront.errors import ServiceUnavailable, ValidationFailed
from storefront.orders.idempotency import parse_key, request_hash
from storefront.orders.schemas import OrderIn
from storefront.platform.db import retry_once

pytestmark = pytest.mark.anyio


class Flaky:
    """Fails with `errors` in turn, then answers "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_a_deadlock_or_serialization_failure_is_retried_once() -> None:
    for error in (asyncpg.DeadlockDetectedError("deadlock"), asyncpg.SerializationError("serialize")):
        flaky = Flaky(error)
        assert await retry_once(flaky) == "ok"
        assert flaky.calls == 2


async def test_a_second_failure_is_503_not_500() -> None:
    flaky = Flaky(asyncpg.DeadlockDetectedError("one"), asyncpg.SerializationError("two"))
    with pytest.raises(ServiceUnavailable):
        await retry_once(flaky)
    assert flaky.calls == 2


async def test_other_errors_are_not_retried() -> None:
    flaky = Flaky(asyncpg.UniqueViolationError("dup"))
    with pytest.raises(asyncpg.UniqueViolationError):
        await retry_once(flaky)
    assert flaky.calls == 1


def test_fingerprint_is_of_the_canonical_body() -> None:
    item = uuid.uuid4()
    decode = msgspec.json.Decoder(OrderIn).decode
    one = decode(f'{{"lines": [{{"item_id": "{item}", "quantity": 2}}]}}'.encode())
    same = decode(f'{{"lines":[{{"quantity":2,"item_id":"{str(item).upper()}"}}]}}'.encode())
    other = decode(f'{{"lines": [{{"item_id": "{item}", "quantity": 3}}]}}'.encode())
    assert request_hash("place_order", one) == request_hash("place_order", same)
    assert request_hash("place_order", one) != request_hash("place_order", other)
    assert request_hash("place_order", one) != request_hash("another_operation", one)


def test_keys_are_visible_ascii_up_to_255() -> None:
    assert parse_key("a") == "a"
    assert parse_key("!" * 255) == "!" * 255
    for bad in ("", " a", "a\n", "x" * 256, "\u00e9"):
        with pytest.raises(ValidationFailed):
            parse_key(bad)
