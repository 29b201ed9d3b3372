"""resolvers/read_connections.py: the hot reads outside a transaction go through the process's
own connections on PostgreSQL; inside one they read the transaction's; errors are Tortoise's; a
failed connection is not used again and a cancelled statement is cancelled on the server
(issue 16)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from models import Organization
from resolvers import hot_reads
from resolvers.read_connections import READS, SIZE
from tests.conftest import QueryCounter

pytestmark = pytest.mark.usefixtures("database")


def _client() -> AsyncpgDBClient:
    client = connections.get("default")
    if type(client) is not AsyncpgDBClient:
        pytest.skip("the process's own connections are PostgreSQL's")
    return client


async def _backend(client: AsyncpgDBClient) -> int:
    rows: list[Any] = await READS.fetch(client, "SELECT pg_backend_pid()", [])
    return int(rows[0][0])


async def test_hot_reads_outside_a_transaction_use_the_process_connections(
    sql_queries: QueryCounter,
) -> None:
    client = _client()
    organization = await Organization.create(slug="reads-own", name="Reads Own")
    before = sql_queries.count
    found = await hot_reads.organizations([organization.id])
    assert [o.id for o in found] == [organization.id]
    assert sql_queries.count == before + 1  # logged as Tortoise logs its statements
    pids = {await _backend(client) for _ in range(5)}
    async with client.acquire_connection() as pooled:
        pooled_pid = await pooled.fetchval("SELECT pg_backend_pid()")
    assert pooled_pid not in pids
    concurrent = await asyncio.gather(*(_backend(client) for _ in range(4 * SIZE)))
    assert len(set(concurrent)) <= SIZE  # each connection one statement at a time


class _RolledBack(Exception):
    pass


async def test_inside_a_transaction_a_hot_read_sees_its_uncommitted_writes() -> None:
    _client()
    with pytest.raises(_RolledBack):
        async with in_transaction():
            organization = await Organization.create(slug="reads-tx", name="Reads Tx")
            found = await hot_reads.organizations([organization.id])
            assert [o.id for o in found] == [organization.id]
            raise _RolledBack
    assert await hot_reads.organizations([organization.id]) == []  # it was never committed


async def test_a_failed_statement_is_tortoises_error_and_the_next_read_works() -> None:
    client = _client()
    with pytest.raises(OperationalError, match="no_such_table"):
        await READS.fetch(client, "SELECT * FROM no_such_table", [])
    assert await _backend(client) > 0


async def test_a_cancelled_statement_is_cancelled_on_the_server() -> None:
    client = _client()
    sleeping = asyncio.create_task(READS.fetch(client, "SELECT pg_sleep(30)", []))
    async with client.acquire_connection() as pooled:
        pid = None
        for _ in range(100):
            await asyncio.sleep(0.02)
            pid = await pooled.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'"
            )
            if pid is not None:
                break
        assert pid is not None
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        for _ in range(100):  # cancelled on the server, not left sleeping
            state = await pooled.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid)
            if state != "active":
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the cancelled statement still runs")
    answers = await asyncio.wait_for(
        asyncio.gather(*(_backend(client) for _ in range(2 * SIZE))), timeout=5
    )
    assert all(answer > 0 for answer in answers)  # no read waits on the cancelled one


async def test_connections_the_server_closed_are_opened_again() -> None:
    client = _client()
    pids = set(await asyncio.gather(*(_backend(client) for _ in range(2 * SIZE))))
    async with client.acquire_connection() as pooled:
        for pid in pids:
            assert await pooled.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.sleep(0.2)  # the closed sockets are seen by the event loop
    after = set(await asyncio.gather(*(_backend(client) for _ in range(2 * SIZE))))
    assert after and not after & pids
