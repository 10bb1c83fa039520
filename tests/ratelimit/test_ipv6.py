"""An IPv6 client is keyed on its prefix (IPV6_PREFIX_LENGTH, a /64 by default) by every
per-client limit, an IPv4-mapped address as its IPv4 one, and an IPv4 client on its address."""

from __future__ import annotations

import httpx
import pytest

from storefront.platform.settings import SettingsError, load_settings
from storefront.web.client_ip import network_of
from tests.support.http import assert_problem, register
from tests.support.services import Services, serving

pytestmark = pytest.mark.anyio
PROXY = {"address": "10.0.0.5", "TRUSTED_PROXIES": "10.0.0.0/8"}


def via(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


@pytest.mark.parametrize(
    ("address", "prefix", "key"),
    [
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", 48, "2001:db8:1::/48"),
        ("2001:db8::1", 128, "2001:db8::1/128"),
        ("fe80::1%eth0", 64, "fe80::/64"),
        ("::ffff:198.51.100.7", 64, "198.51.100.7"),
        ("198.51.100.7", 64, "198.51.100.7"),
        ("unknown", 64, "unknown"),
        ("not:an:address", 64, "not:an:address"),
    ],
)
def test_network_of(address: str, prefix: int, key: str) -> None:
    assert network_of(address, prefix) == key


@pytest.mark.parametrize("value", ["31", "129", "x"])
def test_the_prefix_length_is_bounded(value: str) -> None:
    with pytest.raises(SettingsError, match="IPV6_PREFIX_LENGTH"):
        load_settings({"IPV6_PREFIX_LENGTH": value, "SECRET_KEY": "k" * 32}, dotenv=None)


async def _statuses(client: httpx.AsyncClient, addresses: list[str]) -> list[int]:
    return [(await client.get("/nope", headers=via(address))).status_code for address in addresses]


async def test_two_addresses_of_one_64_share_the_general_bucket(services: Services, clean: None) -> None:
    async with serving(services, **PROXY, RATE_LIMIT_PER_MINUTE="2") as client:
        statuses = await _statuses(client, ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2::abcd"])
        assert statuses == [404, 404, 429]
        # Another /64 of the same /48 is another client.
        assert await _statuses(client, ["2001:db8:1:3::1", "2001:db8:1:3::2"]) == [404, 404]


async def test_an_ipv4_mapped_address_is_its_ipv4_client(services: Services, clean: None) -> None:
    async with serving(services, **PROXY, RATE_LIMIT_PER_MINUTE="2") as client:
        assert await _statuses(client, ["198.51.100.7", "::ffff:198.51.100.7", "198.51.100.7"]) == [404, 404, 429]
        assert await _statuses(client, ["198.51.100.8"]) == [404]  # IPv4 stays per address


async def test_the_prefix_length_is_a_setting(services: Services, clean: None) -> None:
    async with serving(services, **PROXY, RATE_LIMIT_PER_MINUTE="1", IPV6_PREFIX_LENGTH="56") as client:
        assert await _statuses(client, ["2001:db8:0:1::1", "2001:db8:0:2::1", "2001:db8:0:100::1"]) == [404, 429, 404]


async def test_the_login_and_reset_limits_key_on_the_prefix(services: Services, clean: None) -> None:
    env = {"LOGIN_RATE_LIMIT_PER_MINUTE": "1", "PASSWORD_RESET_RATE_LIMIT_PER_HOUR": "1"}
    async with serving(services, **PROXY, **env) as client:
        email = (await register(client))["email"]
        bad = {"email": email, "password": "wrong password"}
        assert (await client.post("/api/v1/auth/login", json=bad, headers=via("2001:db8:1:2::1"))).status_code == 401
        again = await client.post("/api/v1/auth/login", json=bad, headers=via("2001:db8:1:2::2"))
        assert_problem(again, 429, "rate-limited")
        other = await client.post("/api/v1/auth/login", json=bad, headers=via("2001:db8:1:3::1"))
        assert other.status_code == 401
        # The reset limit's ×4 per network: four different emails, then the network is spent.
        reset = "/api/v1/auth/password-reset"
        statuses = [
            (
                await client.post(reset, json={"email": f"r{n}@example.com"}, headers=via(f"2001:db8:9:9::{n}"))
            ).status_code
            for n in range(1, 6)
        ]
        assert statuses == [202, 202, 202, 202, 429]
