"""The process's own PostgreSQL connections for the hot reads made outside a transaction
(resolvers/hot_reads.py, issue 16).

Through Tortoise, every statement acquires a connection from asyncpg's pool and gives it back:
the release shields a task, arms a timeout and an idle timer, and Tortoise's wrappers add their
own steps, about 75 µs of CPU a statement, more than a hot read's own round trip on the billing
page (bench/README.md). Here a read takes one of SIZE connections of the process, each guarded by
a lock held for that one statement and never while waiting for anything else, so no request
can hold one and wait for another.

The statement is logged as Tortoise logs its own (the tests count statements from that log) and
PostgreSQL's errors are translated as Tortoise translates them. A connection that fails is closed
and the next read opens another; a statement cancelled (a request's time limit) is cancelled on
the server, as the pool does. Connections opened in another
event loop (a test's, a command's) are dropped rather than used."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.exceptions import IntegrityError, OperationalError

SIZE = 3

_CONNECT_PARAMETERS = frozenset(inspect.signature(asyncpg.connect).parameters) - {"loop"}


class _Slot:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.connection: asyncpg.Connection | None = None


class ReadConnections:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: list[_Slot] = []
        self._next = 0

    async def fetch(self, client: AsyncpgDBClient, query: str, values: list[Any]) -> list[Any]:
        """The statement's rows, read on one of the process's connections."""
        slot = self._slot()
        async with slot.lock:
            connection = slot.connection
            if connection is None or connection.is_closed():
                connection = slot.connection = await asyncpg.connect(
                    **await _connect_arguments(client)
                )
            client.log.debug("%s: %s", query, values)
            try:
                rows: list[Any] = await connection.fetch(query, *values)
            except (asyncpg.SyntaxOrAccessError, asyncpg.exceptions.DataError) as error:
                raise OperationalError(error) from error
            except asyncpg.IntegrityConstraintViolationError as error:
                raise IntegrityError(error) from error
            except (asyncpg.PostgresError, asyncio.CancelledError):
                # The connection is sound; a cancelled statement is cancelled on the server by
                # asyncpg, and the next statement on the connection waits for that.
                raise
            except BaseException:
                slot.connection = None  # broken: not given to the next read
                connection.terminate()
                raise
            return rows

    async def close(self) -> None:
        slots, self._slots, self._loop = self._slots, [], None
        for slot in slots:
            if slot.connection is not None and not slot.connection.is_closed():
                async with slot.lock:
                    await slot.connection.close()

    def _slot(self) -> _Slot:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._abandon()
            self._loop = loop
            self._slots = [_Slot() for _ in range(SIZE)]
        for slot in self._slots:
            if not slot.lock.locked():
                return slot
        self._next = (self._next + 1) % SIZE
        return self._slots[self._next]

    def _abandon(self) -> None:
        """The connections of an event loop no longer running this code."""
        for slot in self._slots:
            if slot.connection is not None:
                with contextlib.suppress(Exception):
                    slot.connection.terminate()
        self._slots = []


async def _connect_arguments(client: AsyncpgDBClient) -> dict[str, Any]:
    """What Tortoise opens its pool with, less what only a pool takes."""
    if client._pool is None:  # Tortoise opens it, and sets its arguments, on first use
        async with client.acquire_connection():
            pass
    template = {k: v for k, v in client._template.items() if k in _CONNECT_PARAMETERS}
    return {**template, "password": client.password}


READS = ReadConnections()
