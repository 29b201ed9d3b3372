"""Headers on every response (README "Browsers"), and the one place for the Content-Security-Policy.

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere.
- A CSP: API answers (JSON, PDF, CSV) load nothing; the GraphiQL page (the only HTML the gateway
  serves) may load its own assets and run its inline scripts, allowed one by one by their hash.
  `frame-ancestors` comes from GATEWAY_FRAME_ANCESTORS, so a billing page can embed the gateway.
- `Cache-Control: no-store` unless the response chose its own (only the public catalog does, in
  gateway/public_catalog.py): answers for signed-in callers, invoices and usage never sit in a
  shared cache.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'"

# The GraphiQL page. Strawberry's page loads GraphiQL, React and their styles from unpkg.com:
# drop that host here once the gateway serves those assets itself.
GRAPHIQL_ASSET_HOSTS = "https://unpkg.com"
GRAPHIQL_POLICY = (
    "default-src 'self'; "
    f"script-src 'self' {GRAPHIQL_ASSET_HOSTS} {{inline_scripts}}; "
    f"style-src 'self' 'unsafe-inline' {GRAPHIQL_ASSET_HOSTS}; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'"
)

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def content_security_policy(frame_ancestors: str, html: bytes | None = None) -> str:
    """The policy for an API answer, or for an HTML page given its body."""
    if html is None:
        policy = API_POLICY
    else:
        hashes = " ".join(_script_hash(script) for script in _INLINE_SCRIPT.findall(html))
        policy = GRAPHIQL_POLICY.format(inline_scripts=hashes).replace(" ;", ";")
    return f"{policy}; frame-ancestors {frame_ancestors}"


def _script_hash(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, frame_ancestors: str = "'none'") -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Headed(send, self.frame_ancestors).send)


class _Headed:
    """Adds the headers to the response's start; an HTML page is held until its body is complete,
    since its policy names its inline scripts."""

    def __init__(self, send: Send, frame_ancestors: str) -> None:
        self._send = send
        self._frame_ancestors = frame_ancestors
        self._page: Message | None = None
        self._body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            _add_common(headers, self._frame_ancestors)
            if headers.get("content-type", "").startswith("text/html"):
                self._page = message
                return
            headers["Content-Security-Policy"] = content_security_policy(self._frame_ancestors)
            await self._send(message)
            return
        if self._page is None or message["type"] != "http.response.body":
            await self._send(message)
            return
        self._body += message.get("body", b"")
        if message.get("more_body", False):
            return
        policy = content_security_policy(self._frame_ancestors, bytes(self._body))
        MutableHeaders(scope=self._page)["Content-Security-Policy"] = policy
        await self._send(self._page)
        await self._send({"type": "http.response.body", "body": bytes(self._body)})


def _add_common(headers: MutableHeaders, frame_ancestors: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
