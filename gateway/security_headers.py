"""Headers on every response (README "Browsers"), and the one place for the Content-Security-Policy.

- `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere.
- A CSP: API answers (JSON, PDF, CSV) load nothing; the GraphiQL page (the only HTML the gateway
  serves) may load the gateway's own scripts, styles and fonts, and nothing inline.
  `frame-ancestors` comes from GATEWAY_FRAME_ANCESTORS, so a billing page can embed the gateway.
- `Cache-Control: no-store` unless the response chose its own (only the public catalog does, in
  gateway/public_catalog.py): answers for signed-in callers, invoices and usage never sit in a
  shared cache.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'"

# The GraphiQL page (gateway/graphiql.py) loads only the gateway's own files and runs no inline
# script or style; its stylesheet embeds GraphiQL's fonts as data: URLs.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


# The billing page with the Stripe processor (gateway/portal_routes.py): Stripe.js must be loaded
# from Stripe, opens its card and 3-D Secure frames from Stripe and calls Stripe's API. Nothing
# else is added, and nothing of Stripe's with the sandbox processor.
STRIPE_JS = "https://js.stripe.com"
_STRIPE_POLICY = (
    f"default-src 'self'; script-src 'self' {STRIPE_JS}; style-src 'self'; img-src 'self' data:; "
    f"font-src 'self' data:; connect-src 'self' https://api.stripe.com; "
    f"frame-src {STRIPE_JS} https://hooks.stripe.com; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def content_security_policy(
    frame_ancestors: str, *, page: bool = False, stripe: bool = False
) -> str:
    """The policy for an API answer (JSON, PDF, CSV), or for an HTML page of the gateway's
    (`stripe`: the billing page with the Stripe processor)."""
    policy = (_STRIPE_POLICY if stripe else PAGE_POLICY) if page else API_POLICY
    return f"{policy}; frame-ancestors {frame_ancestors}"


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
    def __init__(self, send: Send, frame_ancestors: str) -> None:
        self._send = send
        self._frame_ancestors = frame_ancestors

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            raw = list(message.get("headers", ()))
            names = {name for name, _ in raw}
            if names.isdisjoint(_ALWAYS):  # nothing to replace: appended as they are
                content_type = next((v for n, v in raw if n == b"content-type"), b"")
                page = content_type.startswith(b"text/html")
                raw += _always(self._frame_ancestors)
                if b"cache-control" not in names:
                    raw.append((b"cache-control", b"no-store"))
                if b"content-security-policy" not in names:  # the billing page sets its own
                    policy = content_security_policy(self._frame_ancestors, page=page)
                    raw.append((b"content-security-policy", policy.encode("latin-1")))
                message["headers"] = raw
            else:
                self._headed(message)
        await self._send(message)

    def _headed(self, message: Message) -> None:
        headers = MutableHeaders(scope=message)
        _add_common(headers, self._frame_ancestors)
        page = headers.get("content-type", "").startswith("text/html")
        if "content-security-policy" not in headers:  # the billing page sets its own
            headers["Content-Security-Policy"] = content_security_policy(
                self._frame_ancestors, page=page
            )


# Set on every answer, replacing what the answer set (`_add_common`).
_ALWAYS = frozenset({b"x-content-type-options", b"referrer-policy", b"x-frame-options"})


def _always(frame_ancestors: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
    if frame_ancestors == "'none'":  # for browsers that predate frame-ancestors
        headers.append((b"x-frame-options", b"DENY"))
    return headers


def _add_common(headers: MutableHeaders, frame_ancestors: str) -> None:
    for name, value in _always(frame_ancestors):
        headers[name.decode("latin-1")] = value.decode("latin-1")
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
