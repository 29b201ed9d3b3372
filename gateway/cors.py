"""CORS for the routes browsers call: /graphql, /invoices/{id}.pdf, /usage.csv (README "Browsers").

Starlette's CORSMiddleware answers for the origins of GATEWAY_CORS_ORIGINS. Any other origin is
kept away from it, because it would still add some CORS headers (Access-Control-Allow-Methods on
a refused preflight, Access-Control-Expose-Headers on a request): a refused origin gets none. Its
preflight answers 403 naming the setting; its requests run as without CORS (the browser then
withholds the answer from the page), so same-origin pages such as GraphiQL are unaffected.
Callers sign in with a bearer token, never a cookie, so credentials are not allowed.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing.errors import ErrorCode
from gateway.http_errors import error_response

BROWSER_ROUTES = re.compile(r"/graphql|/usage\.csv|/invoices/[^/]+\.pdf")
ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
# Rate limits (gateway/rate_limits.py): a browser app may read when to retry and what is left.
EXPOSED_HEADERS = (
    "Content-Disposition",
    "ETag",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight's answer


class BrowserCors:
    def __init__(self, app: ASGIApp, origins: Collection[str] = ()) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=tuple(origins),
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not BROWSER_ROUTES.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin in self.origins:
            await self.cors(scope, receive, send)
            return
        if origin is not None and _is_preflight(scope, headers):
            refused = error_response(
                403,
                ErrorCode.FORBIDDEN,
                f"The origin {origin!r} may not call this gateway from a browser: "
                "the gateway's GATEWAY_CORS_ORIGINS lists the origins that may.",
            )
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, _vary_on_origin(send))


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers


def _vary_on_origin(send: Send) -> Send:
    """An answer without CORS headers must not be reused by a cache for an allowed origin."""

    async def send_varied(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return send_varied
