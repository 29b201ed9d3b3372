"""When the database or Redis is out of reach: a JSON 503 with UNAVAILABLE, never a plain-text
500; GET /ready tells which dependency fails while GET /health stays a liveness check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError

from billing.clock import FixedClock
from gateway import worker
from gateway.app import create_app
from gateway.db import close_database, open_database
from gateway.processor import build_processor
from gateway.settings import Settings
from resolvers.loaders import Loaders
from tests.conftest import error_codes, free_port, token_for

UNAVAILABLE = (
    "The gateway cannot reach its database right now; try again in a minute. "
    "GET /ready tells when it is back."
)


@asynccontextmanager
async def database_out_of_reach(database_url: str) -> AsyncIterator[None]:
    """The app's connection now points at a port nobody listens on; restored afterwards."""
    await close_database()
    await open_database(f"postgres://postgres@127.0.0.1:{free_port()}/gone")
    try:
        yield
    finally:
        await close_database()
        await open_database(database_url)


@asynccontextmanager
async def fake_redis() -> AsyncIterator[str]:
    """A server answering +PONG to every command (a RESP array): enough for PING."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            if line.startswith(b"*"):
                writer.write(b"+PONG\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"redis://127.0.0.1:{port}/0"


async def _ready(settings: Settings, clock: FixedClock) -> httpx.Response:
    app = create_app(settings, clock, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as http:
        return await http.get("/ready")


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_ready_checks_redis_when_redis_url_is_set(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    async with fake_redis() as url:
        response = await _ready(replace(settings, redis_url=url), clock)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_is_503_when_redis_is_down(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    response = await _ready(replace(settings, redis_url=closed), clock)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "failing: ConnectionError"},
    }


async def test_the_database_out_of_reach_is_a_json_503_and_ready_fails_but_health_answers(
    client: httpx.AsyncClient, database: str
) -> None:
    token = await token_for("billing@acme.test")
    signed_in = {"Authorization": f"Bearer {token}"}
    async with database_out_of_reach(database):
        query = await client.post(
            "/graphql", json={"query": "{ organization { name } }"}, headers=signed_in
        )
        mutation = await client.post(
            "/graphql",
            json={"query": 'mutation { requestAccountChange(message: "hi") { __typename } }'},
            headers=signed_in,
        )
        csv = await client.get("/usage.csv", headers=signed_in)
        ready = await client.get("/ready")
        health = await client.get("/health")
    for response in (query, mutation, csv):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.headers["retry-after"] == "30"
        assert error_codes(response.json()) == ["UNAVAILABLE"]
        assert response.json()["errors"][0]["message"] == UNAVAILABLE
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["database"].startswith("failing: ")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    # and back: the same app answers again once the database does
    assert (await client.get("/ready")).status_code == 200


@pytest.mark.parametrize("url", ["http://cache:6379", "localhost:6379"])
def test_redis_url_must_be_a_redis_url(url: str) -> None:
    from gateway.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="REDIS_URL: expected a URL starting with redis://"):
        load_settings({"REDIS_URL": url, "GATEWAY_JWT_SECRET": "s" * 40})


async def test_a_connection_lost_during_execution_is_a_503_not_internal(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caller was authenticated; then a field's query loses its connection.
    async def lost(self: Loaders) -> Any:
        raise ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(Loaders, "catalog", lost)
    token = await token_for("owner@acme.test")
    response = await client.post(
        "/graphql",
        json={"query": "{ catalog { currency } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 503
    assert response.json() == {
        "errors": [{"message": UNAVAILABLE, "extensions": {"code": "UNAVAILABLE"}}]
    }


async def test_the_billing_clock_logs_one_line_while_the_database_is_unavailable(
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def database_down(*_: object, **__: object) -> list[str]:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    monkeypatch.setattr(worker, "tick", database_down)
    running = asyncio.create_task(
        worker.run_periodically(clock, build_processor(settings), every_seconds=0.01)
    )
    await asyncio.sleep(0.05)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    records = [r for r in caplog.records if r.name == "billing_gateway.worker"]
    assert records
    assert all(r.levelname == "WARNING" and r.exc_info is None for r in records)
    assert (
        records[0]
        .getMessage()
        .startswith("billing clock: postponed, the database is unavailable: ConnectionRefusedError")
    )
