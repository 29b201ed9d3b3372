"""Which URLs a webhook endpoint may have (EVT-1): http(s) only, and no private, loopback or
link-local address unless GATEWAY_WEBHOOKS_ALLOW_PRIVATE allows them (no requests into the
gateway's own network)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from billing.errors import BillingError

MAX_URL_LENGTH = 2000


async def check_endpoint_url(url: str, *, allow_private: bool) -> str:
    """The URL as it will be used, or a BillingError (field `url`) saying what is wrong."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise _bad(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _bad(f"The URL must start with https:// or http://, got {url!r}.", "URL_SCHEME")
    if not parts.hostname:
        raise _bad(f"The URL {url!r} names no host.")
    if parts.username or parts.password:
        raise _bad("The URL must not carry a user name or password.")
    if not allow_private:
        await _refuse_private(parts.hostname, parts.port or 443)
    return url


async def _refuse_private(host: str, port: int) -> None:
    """Every address the host name resolves to must be public."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise _bad(f"The host {host!r} could not be resolved.", "URL_UNRESOLVABLE") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise _bad(
                f"The host {host!r} resolves to {address}, a private or loopback address: "
                "webhooks go to public addresses only (GATEWAY_WEBHOOKS_ALLOW_PRIVATE=true "
                "allows them, for tests and private networks).",
                "URL_PRIVATE",
            )


def _bad(message: str, reason: str | None = None) -> BillingError:
    return BillingError(message, field="url", reason=reason)
