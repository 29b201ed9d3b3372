"""The client address of gateway/client_address.py: X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import re

import pytest
from starlette.types import Scope

from gateway.client_address import UNKNOWN, client_address, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 192.168.1.7, fd00::/8")


def scope(peer: str | None, *forwarded: str) -> Scope:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 1234) if peer else None, "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "address"),
    [
        ("127.0.0.1", ["203.0.113.7"], "127.0.0.1"),  # untrusted peer: header ignored
        ("10.0.0.5", [], "10.0.0.5"),  # a trusted proxy that forwarded nothing
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["1.1.1.1, 203.0.113.7"], "203.0.113.7"),  # left of the client: forged
        ("10.0.0.5", ["203.0.113.7, 192.168.1.7"], "203.0.113.7"),  # two trusted hops
        ("10.0.0.5", ["1.1.1.1", "203.0.113.7, 10.2.3.4"], "203.0.113.7"),  # two header lines
        ("10.0.0.5", ["10.9.9.9"], "10.9.9.9"),  # only trusted hops: the farthest one
        ("10.0.0.5", ["nonsense, 10.9.9.9"], "10.9.9.9"),  # not an address: stop at the proxy
        ("10.0.0.5", ["203.0.113.7, nonsense"], "10.0.0.5"),
        ("fd00::1", ["2001:db8::5"], "2001:db8::5"),
        ("::ffff:10.0.0.5", ["203.0.113.7"], "203.0.113.7"),  # IPv4-mapped peer
        (None, ["203.0.113.7"], UNKNOWN),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], address: str) -> None:
    assert client_address(scope(peer, *forwarded), PROXIES) == address


def test_no_trusted_proxies_by_default() -> None:
    assert client_address(scope("10.0.0.5", "203.0.113.7"), ()) == "10.0.0.5"


def test_a_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.300' is not an IP address or network")):
        parse_networks("10.0.0.0/8,10.0.0.300")


def test_the_address_is_worked_out_once_a_request_for_the_same_proxies() -> None:
    request = scope("10.0.0.5", "203.0.113.7")
    assert client_address(request, PROXIES) == "203.0.113.7"
    request["headers"] = [(b"x-forwarded-for", b"198.51.100.9")]  # not read again
    assert client_address(request, PROXIES) == "203.0.113.7"
    assert client_address(request, ()) == "10.0.0.5"  # other proxies: worked out again
