"""The client's IP address: the TCP peer, or what a trusted proxy says it forwarded for; and the
network rate limits key a client on (an IPv6 client by its prefix)."""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.types import Scope

from storefront.platform.addresses import Networks
from storefront.platform.settings import LimitSettings

ClientIp = NamedDependency[str]
"""A handler parameter `client_ip: ClientIp` receives the caller's network as rate limits key it
(`provide_client_ip`): an IPv4 address, or an IPv6 address's prefix such as `2001:db8:1:2::/64`."""


def peer_address(scope: Scope) -> str:
    """The TCP peer's address, or `unknown` when the server did not say."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_ip(scope: Scope, trusted: Networks) -> str:
    """The client's IP: the peer, unless the peer is a trusted proxy, then the right-most untrusted
    address of `X-Forwarded-For` (the left-most entries are whatever the client chose to send)."""
    peer = peer_address(scope)
    if not trusted or peer not in trusted:
        return peer
    forwarded = b",".join(value for key, value in scope["headers"] if key == b"x-forwarded-for")
    for hop in reversed(forwarded.decode("latin-1").split(",")):
        hop = hop.strip()
        if hop and hop not in trusted:
            return hop
    return peer


@functools.lru_cache(maxsize=4096)
def network_of(address: str, ipv6_prefix: int) -> str:
    """The key of one client: an IPv4 address as it is (an IPv4-mapped IPv6 one as its IPv4), an
    IPv6 address as its network of `ipv6_prefix` bits. A host is handed a whole IPv6 prefix (a /64
    at least), so keying on the address would give one client 2^64 buckets."""
    if ":" not in address:  # IPv4, or a peer the server could not name: no parsing on the hot path
        return address
    try:
        ip = ipaddress.IPv6Address(address.partition("%")[0])  # a zone id names a link, not a client
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))


def client_network(scope: Scope, limits: LimitSettings) -> str:
    """The client's rate-limit key (`network_of` its IP): every per-client limit keys on this."""
    return network_of(client_ip(scope, limits.trusted_proxies), limits.ipv6_prefix_length)


def provide_client_ip(limits: LimitSettings) -> Provide:
    """The `client_ip: str` dependency for handlers that key something on the caller's network."""

    def resolve(request: Request[Any, Any, Any]) -> str:
        return client_network(request.scope, limits)

    return Provide(resolve, sync_to_thread=False)
