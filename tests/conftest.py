"""Shared fixtures: one migrated and seeded database per session (SQLite by default, PostgreSQL
when DATABASE_URL says so), the real ASGI app driven through httpx, and a SQL query counter."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.auth import issue_token
from gateway.catalog_file import load_catalog, load_demo
from gateway.db import apply_migrations, close_database, open_database
from gateway.seed import seed
from gateway.settings import DEFAULT_CATALOG_FILE, DEFAULT_DEMO_FILE, Settings, load_settings
from gateway.trusted_documents import OPERATIONS, document_hash
from models import User, WebhookEndpoint

# The commands the tests start keep their sandbox files in their own working directory's var/
# (a relative GATEWAY_DATA_DIR), never in the checkout's.
os.environ.setdefault("GATEWAY_DATA_DIR", "var")

# The instant the demo data is seeded at; every test reads time from this clock.
SEEDED_AT = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
JWT_SECRET = "test-secret-" + "x" * 40
# Tests walk whole tables as one caller from 127.0.0.1; the rate limits' own tests set theirs.
UNTHROTTLED = {
    "GATEWAY_RATE_LIMIT": "1000000/minute",
    "GATEWAY_RATE_LIMIT_ANONYMOUS": "1000000/minute",
    "GATEWAY_AUTH_FAILURE_LIMIT": "1000000/minute",
}


def _database_url(tmp_dir: Path) -> str:
    import os

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return f"sqlite://{tmp_dir / 'test.sqlite3'}"


async def _reset_postgres(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "GATEWAY_JWT_SECRET": JWT_SECRET,
            "GATEWAY_MODE": "sandbox",
            **UNTHROTTLED,
        }
    )


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    return FixedClock(SEEDED_AT)


@pytest_asyncio.fixture(scope="session")
async def database(settings: Settings, clock: FixedClock) -> AsyncIterator[str]:
    if settings.database_url.startswith("postgres://"):
        await _reset_postgres(settings.database_url)
    await apply_migrations(settings.database_url)
    await open_database(settings.database_url)
    catalog = load_catalog(DEFAULT_CATALOG_FILE)
    await seed(catalog, load_demo(DEFAULT_DEMO_FILE, catalog), clock)
    yield settings.database_url
    await close_database()


@pytest_asyncio.fixture
async def client(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


async def token_for(email: str) -> str:
    user = await User.get(email=email)
    return issue_token(user.id, JWT_SECRET, 3600)


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_user: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await token_for(as_user)}"} if as_user else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body


@pytest_asyncio.fixture
async def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def free_port() -> int:
    """A loopback port nobody listens on right now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


_QUERY = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends, from its own debug log."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if _QUERY.match(message):
            self.statements.append(message)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous_level)


def persisted(sha256: str) -> dict[str, Any]:
    """The request's `extensions` naming a persisted document by its hash."""
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def trusted_request(operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """A partner's request body (ACC-6): a trusted document named by its hash, no text."""
    document = (OPERATIONS / f"{operation}.graphql").read_text()
    return {"variables": variables, "extensions": persisted(document_hash(document))}


Gateway = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def configured_settings(database_url: str, **env: str) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "GATEWAY_JWT_SECRET": JWT_SECRET,
            "GATEWAY_MODE": "sandbox",
            **env,
        }
    )


@pytest.fixture
def gateway(database: str, clock: FixedClock) -> Gateway:
    """Starts an app with these settings on top of the tests' (e.g. GATEWAY_RATE_LIMIT="3/minute");
    `peer` is the address its requests come from."""

    @asynccontextmanager
    async def start(peer: str = "127.0.0.1", **env: str) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(configured_settings(database, **env), clock, manage_database=False)
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http

    return start


async def bearer(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_for(email)}"}


@pytest_asyncio.fixture
async def webhook_client(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with GATEWAY_WEBHOOKS_ALLOW_PRIVATE=true, so loopback receivers may register."""
    app = create_app(replace(settings, webhooks_allow_private=True), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http
    # Other tests' clocks must not send to endpoints that are gone.
    await WebhookEndpoint.all().delete()


@asynccontextmanager
async def live_redis(url: str) -> AsyncIterator[Redis]:
    """A client of the real Redis at `url`, closed afterwards; the test skips when none answers
    (`.ci/run` starts one)."""
    client = Redis.from_url(url)
    try:
        await client.ping()
    except RedisError:
        await client.aclose()
        pytest.skip("no Redis at 127.0.0.1:6379 (.ci/run starts one)")
    try:
        yield client
    finally:
        await client.aclose()
