"""When the database is out of reach: every route answers a JSON 503 with UNAVAILABLE (the
contract's code) instead of a plain-text 500, and GET /ready says which dependency fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections

from billing.errors import ErrorCode
from gateway.http_errors import error_response
from gateway.settings import Settings
from resolvers.availability import UNAVAILABLE_MESSAGE, database_unavailable

log = logging.getLogger("billing_gateway.availability")

CHECK_SECONDS = 3.0
RETRY_AFTER_SECONDS = "30"


class DependencyUnavailable(Exception):
    """Raised by the GraphQL view when a field failed for want of the database."""


def refuse_if_unavailable(errors: list[GraphQLError]) -> None:
    if any((error.extensions or {}).get("code") == ErrorCode.UNAVAILABLE for error in errors):
        raise DependencyUnavailable


class UnavailableAsJson:
    """ASGI middleware: an unreachable database becomes a 503 in the GraphQL error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            unavailable = isinstance(error, DependencyUnavailable) or database_unavailable(error)
            if started or not unavailable:
                raise
            log.warning("database unavailable for %s: %r", scope.get("path"), error)
            response = error_response(503, ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE)
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
            await response(scope, receive, send)


async def _database_answers() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def _redis_answers(url: str) -> None:
    # RESP2: a PING needs nothing newer, and it works with every Redis version (no HELLO 3).
    client = redis.from_url(
        url, protocol=2, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS
    )
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _check(answers: Callable[[], Awaitable[None]]) -> str:
    """ "ok", or why not (the exception's kind only: no host names or credentials)."""
    try:
        await asyncio.wait_for(answers(), CHECK_SECONDS)
    except Exception as error:
        return f"failing: {type(error).__name__}"
    return "ok"


def ready_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """GET /ready: 200 when the database (and Redis, when REDIS_URL is set) answer, else 503.
    GET /health stays a liveness check that touches nothing."""

    async def ready(_: Request) -> Response:
        checks = {"database": await _check(_database_answers)}
        if settings.redis_url:
            url = settings.redis_url
            checks["redis"] = await _check(lambda: _redis_answers(url))
        ok = all(result == "ok" for result in checks.values())
        body = {"status": "ready" if ok else "unavailable", "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    return ready
