"""Who the client is (peer address, trusted proxies)."""

from __future__ import annotations

import ipaddress
from typing import Any

from storefront.config import Network


def peer_address(scope: dict[str, Any]) -> str:
    """The TCP peer's address, or `unknown` when the server did not say."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_ip(scope: dict[str, Any], trusted: tuple[Network, ...]) -> str:
    """The client's IP: the peer, unless the peer is a trusted proxy, then the right-most untrusted
    address of `X-Forwarded-For` (the left-most entries are whatever the client chose to send)."""
    peer = peer_address(scope)
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = b",".join(value for key, value in scope["headers"] if key == b"x-forwarded-for")
    for hop in reversed(forwarded.decode("latin-1").split(",")):
        hop = hop.strip()
        if hop and not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
