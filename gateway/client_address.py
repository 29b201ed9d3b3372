"""The address a request comes from, for the limits kept per client address.

`X-Forwarded-For` is believed only when the direct peer is a trusted proxy
(GATEWAY_TRUSTED_PROXIES). Each proxy appends the address it received the request from, so
the list is read from the right: trusted proxies are skipped and the first address that is not
one is the client. Whatever a client wrote further left is never read, so a forged header
changes nothing; from an untrusted peer the header is not read at all."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.datastructures import Headers
from starlette.types import Scope

IPNetwork = IPv4Network | IPv6Network
UNKNOWN = "unknown"  # no peer address (e.g. a Unix socket): every such request shares one budget


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """Comma-separated IP addresses or CIDR networks; raises ValueError naming a bad one."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(networks)


_KEPT = "gateway.client_address"  # the scope's own answer, for the same trusted proxies


def client_address(scope: Scope, trusted_proxies: tuple[IPNetwork, ...]) -> str:
    """The request's client address; asked up to three times a request (the failed-sign-in
    limit, the context, the rate limit), worked out once."""
    kept = scope.get(_KEPT)
    if kept is not None and kept[0] is trusted_proxies:
        return str(kept[1])
    address = _client_address(scope, trusted_proxies)
    scope[_KEPT] = (trusted_proxies, address)
    return address


def _client_address(scope: Scope, trusted_proxies: tuple[IPNetwork, ...]) -> str:
    peer = scope.get("client")
    if not peer:
        return UNKNOWN
    address = _address(str(peer[0]))
    if address is None:
        return str(peer[0])
    if not _trusted(address, trusted_proxies):
        return str(address)
    forwarded = ",".join(Headers(scope=scope).getlist("x-forwarded-for"))
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        hop_address = _address(hop)
        if hop_address is None:
            break  # not an address: what the nearest trusted proxy saw is all we know
        address = hop_address
        if not _trusted(address, trusted_proxies):
            break
    return str(address)


@lru_cache(maxsize=4096)
def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPv4Address | IPv6Address, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)
