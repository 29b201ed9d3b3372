"""The rate limits' one Redis call per request (gateway/rate_limit_script.py) on a connection of
the process's own, pipelined (issue 16).

Through redis-py's asyncio client the call costs about three times the CPU of its round trip
(the pool's checkout and release, the retry wrapper, its events and its line-by-line parser:
190 against 67 µs a call, measured side by side in bench/README.md), more than any other step
of a signed-in request outside the GraphQL execution. Here each call writes `EVALSHA` on one
connection and waits for its reply: Redis answers a connection's commands in order, so replies
are handed to the waiting calls first come, first served, and calls made at once share the
connection without waiting for each other; those made in one turn of the event loop go out in
one write. A script Redis does not know yet (`NOSCRIPT`: after a restart or `SCRIPT FLUSH`) is
sent once more with `EVAL`.

Only plain `redis://` URLs (host, port, database, user and password) are served here:
`has_own_connection` says so, and for the others (`rediss://`, `unix://`, query options) the
caller keeps redis-py. Errors are redis-py's own classes (ConnectionError, ResponseError,
TimeoutError), which the rate limits already treat as Redis not answering. A connection that
fails or closes fails the calls waiting on it; the next call opens another. A call cancelled
(its time limit) leaves its reply to be read and dropped, so later replies stay in order; a
connection with MOST_WAITING calls waiting (a Redis that stopped answering) is dropped."""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Reply = bytes | int | list[Any] | ResponseError | None
MOST_WAITING = 10_000  # calls on one connection still waiting for their replies


def has_own_connection(url: str) -> bool:
    """Whether `url` is one ScriptConnection serves: redis://[user:password@]host[:port][/db]."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        return False
    path = parts.path.strip("/")
    return (
        parts.scheme == "redis"
        and not parts.query
        and not parts.fragment
        and (not path or path.isdigit())
    )


class Script:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.sha = hashlib.sha1(source, usedforsecurity=False).hexdigest().encode()


class ScriptConnection:
    def __init__(self, url: str, *, connect_timeout: float) -> None:
        if not has_own_connection(url):
            raise ValueError(f"not a plain redis:// URL: {url!r}")
        parts = urlsplit(url)
        self._host = unquote(parts.hostname or "localhost")
        self._port = parts.port or 6379
        self._setup: list[tuple[bytes, ...]] = []
        if parts.password is not None:
            user = () if parts.username in (None, "") else (unquote(parts.username).encode(),)
            self._setup.append((b"AUTH", *user, unquote(parts.password).encode()))
        if database := parts.path.strip("/"):
            self._setup.append((b"SELECT", database.encode()))
        self._connect_timeout = connect_timeout
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    async def run(self, script: Script, keys: list[str], args: list[Any]) -> Reply:
        """The script's reply; raises redis-py's ResponseError for an error it answers."""
        call = (str(len(keys)).encode(), *map(_encoded, keys), *map(_encoded, args))
        reply = await self._call((b"EVALSHA", script.sha, *call))
        if isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT"):
            reply = await self._call((b"EVAL", script.source, *call))
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    def close(self) -> None:
        protocol, self._protocol, self._connecting = self._protocol, None, None
        if protocol is not None:
            protocol.close()

    async def _call(self, command: tuple[bytes, ...]) -> Reply:
        protocol = self._protocol
        if protocol is None or not protocol.serves(asyncio.get_running_loop()):
            protocol = await self._connected()
        return await protocol.call(command)

    async def _connected(self) -> _Protocol:
        """The open connection; calls made while it opens wait for the same one."""
        loop = asyncio.get_running_loop()
        connecting = self._connecting
        if connecting is None or connecting.get_loop() is not loop or connecting.done():
            connecting = self._connecting = loop.create_future()
            try:
                protocol = await self._open(loop)
            except BaseException as error:
                self._connecting = None
                connecting.set_exception(error)
                connecting.exception()  # retrieved: the callers waiting on it raise it
                raise
            self._protocol = protocol
            connecting.set_result(protocol)
            return protocol
        return await asyncio.shield(connecting)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Protocol:
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, protocol = await loop.create_connection(_Protocol, self._host, self._port)
                for command in self._setup:  # AUTH, SELECT
                    reply = await protocol.call(command)
                    if isinstance(reply, ResponseError):
                        protocol.close()
                        raise RedisConnectionError(f"Redis refused {command[0].decode()}: {reply}")
        except TimeoutError as error:
            raise RedisTimeoutError(f"Redis at {self._host}:{self._port}: no connection") from error
        except OSError as error:
            raise RedisConnectionError(f"Redis at {self._host}:{self._port}: {error}") from error
        return protocol


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[asyncio.Future[Reply]] = deque()
        self._buffer = bytearray()
        self._unsent: list[bytes] = []
        self._lost: Exception | None = None

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self._lost is None and loop is self._loop

    def call(self, command: tuple[bytes, ...]) -> asyncio.Future[Reply]:
        if self._lost is not None or self._transport is None:
            raise RedisConnectionError(f"Redis connection closed: {self._lost}")
        if len(self._waiting) >= MOST_WAITING:
            # A Redis that keeps the connection open and answers nothing: the calls given up
            # on (their time limit) would pile up waiting for their replies.
            self._fail(RedisConnectionError(f"{MOST_WAITING} calls waiting for Redis"))
            raise RedisConnectionError(f"Redis connection closed: {self._lost}")
        reply = self._loop.create_future()
        self._waiting.append(reply)
        # Written once the calls made in this turn of the event loop are all in: one send for
        # the requests that reached their rate limit together, rather than one each.
        if not self._unsent:
            self._loop.call_soon(self._send)
        self._unsent.append(_packed(command))
        return reply

    def _send(self) -> None:
        unsent, self._unsent = self._unsent, []
        transport = self._transport
        if transport is not None and self._lost is None and not transport.is_closing():
            transport.write(b"".join(unsent))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while self._waiting:
            try:
                parsed = _reply(buffer, start)
            except (RedisConnectionError, ValueError) as error:
                self._fail(RedisConnectionError(f"Redis sent what is not a reply: {error}"))
                return
            if parsed is None:
                break
            value, start = parsed
            waiting = self._waiting.popleft()
            if not waiting.done():  # not cancelled
                waiting.set_result(value)
        del buffer[:start]
        if buffer and not self._waiting:  # a reply nobody asked for: the stream is lost
            self._fail(RedisConnectionError("Redis sent a reply no call was waiting for"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"Redis connection lost: {exc or 'closed'}"))

    def _fail(self, error: RedisConnectionError) -> None:
        if self._lost is None:
            self._lost = error
        waiting, self._waiting = self._waiting, deque()
        for reply in waiting:
            if not reply.done():
                reply.set_exception(error)
        if self._transport is not None:
            self._transport.close()


def _encoded(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Redis argument of type {type(value).__name__}: {value!r}")
    return repr(value).encode()  # as redis-py's encoder writes numbers


def _packed(command: tuple[bytes, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(command)]
    for argument in command:
        parts.append(b"$%d\r\n%s\r\n" % (len(argument), argument))
    return b"".join(parts)


def _reply(buffer: bytearray, start: int) -> tuple[Reply, int] | None:
    """The RESP2 reply at `start` and where it ends, or None when it has not all arrived."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return None
    kind, line = buffer[start : start + 1], bytes(buffer[start + 1 : end])
    after = end + 2
    if kind == b"+":
        return line, after
    if kind == b"-":
        return ResponseError(line.decode(errors="replace")), after
    if kind == b":":
        return int(line), after
    if kind == b"$":
        length = int(line)
        if length < 0:
            return None, after
        if len(buffer) < after + length + 2:
            return None
        return bytes(buffer[after : after + length]), after + length + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, after
        items: list[Any] = []
        for _ in range(count):
            parsed = _reply(buffer, after)
            if parsed is None:
                return None
            item, after = parsed
            items.append(item)
        return items, after
    raise RedisConnectionError(f"Redis sent a reply this client does not read: {kind!r}")
