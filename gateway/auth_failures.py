"""Failed authentications limited per client address, on every route (README "Rate limits").

Each 401 answered to a request that bore credentials spends one unit of its address's
GATEWAY_AUTH_FAILURE_LIMIT. While that budget is spent, a request from the address that bears
credentials gets 429 before they are looked at, so guessing tokens or API keys stops there;
requests without credentials go on, on their own budget."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.client_address import IPNetwork, client_address
from gateway.rate_limits import RateLimited, RateLimits


class AuthFailureLimit:
    def __init__(
        self, app: ASGIApp, limits: RateLimits, trusted_proxies: tuple[IPNetwork, ...]
    ) -> None:
        self.app = app
        self.limits = limits
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not Headers(scope=scope).get("authorization", "").strip():
            await self.app(scope, receive, send)
            return
        address = client_address(scope, self.trusted_proxies)
        try:
            await self.limits.refuse_credentials_while_failing(address)
        except RateLimited as limited:
            await limited.response()(scope, receive, send)
            return
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_noting_status)
        if status == 401:
            await self.limits.authentication_failed(address)
