"""Failed authentications limited per client address, on every route (README "Rate limits").

Each 401 answered to a request that bore credentials spends one unit of its address's
GATEWAY_AUTH_FAILURE_LIMIT. While that budget is spent, a request from the address that bears
credentials gets 429 and nothing else, so guessing tokens or API keys stops there; requests
without credentials go on, on their own budget.

On most routes the budget is read before the credentials are looked at. On the deferred routes
(`/graphql`, unless just-in-time provisioning may write a user while authenticating) the
endpoint reads it in the same Redis round trip that spends the request's weight, before the
operation runs or anything is written (gateway/app.py `_spend`), and marks the request's
FailuresCheck done. Any answer that starts without that check (a 401, a refused document, a
400, a 413, an error) is held here until the budget is read: while it is spent, the 429 is sent
instead and the app's answer dropped. A 401 there is counted in the same round trip.

Once a process has refused an address, it refuses that address's credentials on every route
before anything else (no round trip) until the oldest failure leaves the window, which stays
full until then (RateLimits.known_failing)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.client_address import IPNetwork, client_address
from gateway.rate_limits import RateLimited, RateLimits

_SCOPE_KEY = "gateway.failures_check"


class FailuresCheck:
    """On a deferred request's scope: whether the endpoint has read the failures budget."""

    __slots__ = ("address", "done")

    def __init__(self, address: str) -> None:
        self.address = address
        self.done = False


def deferred_check(scope: Scope) -> FailuresCheck | None:
    """The request's failures check still to be made by the endpoint, if any."""
    check: FailuresCheck | None = scope.get(_SCOPE_KEY)
    return None if check is None or check.done else check


class AuthFailureLimit:
    def __init__(
        self,
        app: ASGIApp,
        limits: RateLimits,
        trusted_proxies: tuple[IPNetwork, ...],
        deferred_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.limits = limits
        self.trusted_proxies = trusted_proxies
        self.deferred_paths = frozenset(deferred_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not Headers(scope=scope).get("authorization", "").strip():
            await self.app(scope, receive, send)
            return
        address = client_address(scope, self.trusted_proxies)
        if (known := self.limits.known_failing(address)) is not None:
            await known.response()(scope, receive, send)
            return
        if scope["path"] in self.deferred_paths:
            await self._deferred(scope, receive, send, address)
            return
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

    async def _deferred(self, scope: Scope, receive: Receive, send: Send, address: str) -> None:
        check = FailuresCheck(address)
        scope[_SCOPE_KEY] = check
        started = replaced = False
        counted_after = False  # a 401 after the check: counted once the app is done

        async def send_checked(message: Message) -> None:
            nonlocal started, replaced, counted_after
            if replaced:
                return  # the app's body of the answer the 429 replaced
            if message["type"] == "http.response.start":
                started = True
                if not check.done:
                    check.done = True
                    limited = await self._unchecked_answer(address, message["status"])
                    if limited is not None:
                        replaced = True
                        await limited.response()(scope, receive, send)
                        return
                elif message["status"] == 401:
                    counted_after = True
            await send(message)

        try:
            await self.app(scope, receive, send_checked)
        except Exception:
            if not started and not check.done:
                check.done = True
                limited = await self._unchecked_answer(address, 500)
                if limited is not None:
                    # Sent before the error goes on: the error middleware then sends no 500.
                    await limited.response()(scope, receive, send)
            raise
        if counted_after:
            await self.limits.authentication_failed(address)

    async def _unchecked_answer(self, address: str, status: int) -> RateLimited | None:
        """The 429 that replaces an answer the endpoint sent without checking the budget."""
        if status == 401:
            return await self.limits.count_failure_unless_failing(address)
        try:
            await self.limits.refuse_credentials_while_failing(address)
        except RateLimited as limited:
            return limited
        return None
