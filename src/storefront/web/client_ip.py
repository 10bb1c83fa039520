"""The client's IP address: the TCP peer, or what a trusted proxy says it forwarded for."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from storefront.platform.settings import Networks

ClientIp = NamedDependency[str]
"""A handler parameter `client_ip: ClientIp` receives the caller's address (`provide_client_ip`)."""


def peer_address(scope: dict[str, Any]) -> str:
    """The TCP peer's address, or `unknown` when the server did not say."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_ip(scope: dict[str, Any], trusted: Networks) -> str:
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


def provide_client_ip(trusted: Networks) -> Provide:
    """The `client_ip: str` dependency for handlers that key something on the caller's address."""

    def resolve(request: Request[Any, Any, Any]) -> str:
        return client_ip(request.scope, trusted)  # type: ignore[arg-type]

    return Provide(resolve, sync_to_thread=False)
