"""Network addresses in settings: the networks of TRUSTED_PROXIES, and how a local client reaches
a server that listens on a wildcard address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from storefront.platform.environ import split_list

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "127.0.0.1"
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # listen on every interface


def loopback_for(host: str) -> str:
    """Where a client on this machine connects to reach a server listening on `host`: a wildcard
    address is no destination, so it means the loopback one."""
    return LOOPBACK if host in WILDCARD_HOSTS else host


class Networks:
    """IP networks (addresses or CIDRs) from a comma-separated list; `address in networks`."""

    __slots__ = ("networks",)

    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def parse(cls, text: str) -> Networks:
        """`10.0.0.0/8, ::1` → Networks; ValueError names the first bad entry."""
        return cls(ipaddress.ip_network(part, strict=False) for part in split_list(text))

    def __contains__(self, address: object) -> bool:
        try:
            ip = ipaddress.ip_address(str(address))
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Networks) and other.networks == self.networks

    def __hash__(self) -> int:
        return hash(self.networks)

    def __repr__(self) -> str:
        return f"Networks({', '.join(map(str, self.networks))})"
