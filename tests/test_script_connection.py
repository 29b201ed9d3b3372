"""gateway/script_connection.py: the rate limits' script calls on the process's own pipelined
Redis connection, against the real Redis at 127.0.0.1:6379 (`.ci/run` starts it; without it the
tests that need it skip), and its reply reader on every way a reply can arrive in pieces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from gateway import script_connection
from gateway.script_connection import (
    Script,
    ScriptConnection,
    _packed,
    _Protocol,
    _reply,
    has_own_connection,
)
from tests.conftest import live_redis

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest_asyncio.fixture
async def redis() -> AsyncIterator[Redis]:
    async with live_redis(REDIS_URL) as client:
        yield client


@pytest_asyncio.fixture
async def connection(redis: Redis) -> AsyncIterator[ScriptConnection]:
    own = ScriptConnection(REDIS_URL, connect_timeout=1.0)
    try:
        yield own
    finally:
        own.close()


def fresh(body: str) -> Script:
    """A script Redis has not seen (a comment of its own): its first call meets NOSCRIPT."""
    return Script(f"-- {uuid4().hex}\n{body}".encode())


@pytest.mark.parametrize(
    ("url", "served"),
    [
        ("redis://127.0.0.1:6379/0", True),
        ("redis://localhost", True),
        ("redis://:secret@cache.internal:6380/3", True),
        ("redis://gateway:secret@cache.internal/", True),
        ("rediss://cache.internal:6380/0", False),  # TLS: redis-py's
        ("unix:///run/redis.sock", False),
        ("redis://cache.internal/0?socket_keepalive=true", False),  # options: redis-py's
        ("redis://cache.internal/cache", False),
        ("redis://cache.internal:port/0", False),
    ],
)
def test_only_plain_redis_urls_get_a_connection_of_their_own(url: str, served: bool) -> None:
    assert has_own_connection(url) is served


REPLIES: list[tuple[bytes, object]] = [
    (b"+OK\r\n", b"OK"),
    (b":-42\r\n", -42),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*3\r\n:1\r\n$18\r\n1796601124.8494928\r\n:2\r\n", [1, b"1796601124.8494928", 2]),
    (b"*2\r\n*1\r\n+a\r\n$-1\r\n", [[b"a"], None]),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # a bulk string holding the separator
]


@pytest.mark.parametrize(("wire", "expected"), REPLIES)
def test_a_reply_is_read_only_once_all_of_it_has_arrived(wire: bytes, expected: object) -> None:
    buffer = bytearray(wire + b"+NEXT\r\n")
    assert _reply(buffer, 0) == (expected, len(wire))
    for cut in range(len(wire)):
        assert _reply(bytearray(wire[:cut]), 0) is None, cut


def test_an_error_reply_is_a_response_error() -> None:
    parsed = _reply(bytearray(b"-NOSCRIPT No matching script.\r\n"), 0)
    assert parsed is not None
    error, end = parsed
    assert isinstance(error, ResponseError) and str(error) == "NOSCRIPT No matching script."
    assert end == 31


def test_commands_are_written_as_redis_reads_them() -> None:
    assert _packed((b"EVALSHA", b"ab", b"0")) == b"*3\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n0\r\n"


class Written(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


async def test_replies_arriving_in_pieces_go_to_their_calls_in_order() -> None:
    protocol = _Protocol()
    transport = Written()
    protocol.connection_made(transport)
    first, second, third = (protocol.call((b"PING",)) for _ in range(3))
    second.cancel()  # its reply still comes, and is dropped
    await asyncio.sleep(0)
    # Made in the same turn of the event loop: written together, in one write.
    assert transport.written == [b"*1\r\n$4\r\nPING\r\n" * 3] and not transport.closed
    wire = b":1\r\n$3\r\ntwo\r\n*2\r\n:3\r\n+x\r\n"
    for at in range(0, len(wire), 3):
        protocol.data_received(wire[at : at + 3])
    assert first.result() == 1 and third.result() == [3, b"x"]
    fourth = protocol.call((b"ECHO", b"4"))
    await asyncio.sleep(0)
    protocol.data_received(b"$1\r\n4\r\n")
    assert fourth.result() == b"4"
    assert transport.written[1:] == [b"*2\r\n$4\r\nECHO\r\n$1\r\n4\r\n"] and not transport.closed


async def test_a_reply_no_call_waits_for_fails_the_connection() -> None:
    protocol = _Protocol()
    transport = Written()
    protocol.connection_made(transport)
    protocol.data_received(b"+OK\r\n")
    assert transport.closed and not protocol.serves(asyncio.get_running_loop())
    with pytest.raises(RedisConnectionError):
        protocol.call((b"PING",))


async def test_a_script_answers_as_through_redis_py(
    redis: Redis, connection: ScriptConnection
) -> None:
    body = "return {tonumber(ARGV[1]) + 1, ARGV[2], #KEYS, redis.call('EXISTS', KEYS[1])}"
    script = fresh(body)
    # The first call meets NOSCRIPT and sends the script itself; the next runs it by its hash.
    for _ in range(2):
        ours = await connection.run(script, ["a-key"], [41, "word"])
        theirs = await redis.register_script(script.source)(keys=["a-key"], args=[41, "word"])
        assert ours == theirs == [42, b"word", 1, 0]
    assert await redis.script_exists(script.sha.decode()) == [True]


async def test_an_error_raised_by_the_script_is_raised_to_its_caller(
    connection: ScriptConnection,
) -> None:
    with pytest.raises(ResponseError, match="refused here"):
        await connection.run(fresh("return redis.error_reply('refused here')"), [], [])
    assert await connection.run(fresh("return 7"), [], []) == 7  # the connection goes on


async def test_calls_made_at_once_share_the_connection_and_get_their_own_replies(
    connection: ScriptConnection,
) -> None:
    script = fresh("return ARGV[1]")
    answers = await asyncio.gather(*(connection.run(script, [], [n]) for n in range(300)))
    assert answers == [str(n).encode() for n in range(300)]


async def test_a_call_cancelled_by_its_time_limit_leaves_the_replies_in_order(
    connection: ScriptConnection,
) -> None:
    slow = fresh("local n = 0 for i = 1, 3000000 do n = n + i end return 'slow'")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.001):
            await connection.run(slow, [], [])
    assert await connection.run(fresh("return ARGV[1]"), [], ["after"]) == b"after"


async def test_a_connection_lost_fails_its_calls_and_the_next_call_opens_another(
    connection: ScriptConnection,
) -> None:
    slow = fresh("local n = 0 for i = 1, 3000000 do n = n + i end return 'slow'")
    await connection.run(fresh("return 1"), [], [])
    waiting = asyncio.ensure_future(connection.run(slow, [], []))
    await asyncio.sleep(0)
    protocol = connection._protocol
    assert protocol is not None and protocol._transport is not None
    protocol._transport.abort()
    with pytest.raises(RedisConnectionError):
        await waiting
    assert await connection.run(fresh("return 2"), [], []) == 2
    assert connection._protocol is not protocol


async def test_the_url_s_database_is_the_one_written(redis: Redis) -> None:
    key = f"test-script-connection-{uuid4().hex}"
    own = ScriptConnection(REDIS_URL, connect_timeout=1.0)
    try:
        await own.run(fresh("return redis.call('SET', KEYS[1], 'here', 'EX', 60)"), [key], [])
    finally:
        own.close()
    other_database = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        assert await redis.get(key) == b"here"
        assert await other_database.get(key) is None
    finally:
        await other_database.aclose()
        await redis.delete(key)


async def test_a_password_redis_refuses_is_a_connection_error(redis: Redis) -> None:
    own = ScriptConnection("redis://:not-the-password@127.0.0.1:6379/9", connect_timeout=1.0)
    with pytest.raises(RedisConnectionError, match="Redis refused AUTH"):
        await own.run(fresh("return 1"), [], [])
    own.close()


async def test_nobody_listening_is_a_connection_error() -> None:
    own = ScriptConnection("redis://127.0.0.1:1/0", connect_timeout=1.0)
    with pytest.raises(RedisConnectionError, match=r"127\.0\.0\.1:1"):
        await own.run(fresh("return 1"), [], [])


async def test_a_redis_that_answers_nothing_does_not_pile_up_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(script_connection, "MOST_WAITING", 3)
    protocol = _Protocol()
    transport = Written()
    protocol.connection_made(transport)
    waiting = [protocol.call((b"PING",)) for _ in range(3)]
    for call in waiting:
        call.cancel()  # given up on: their replies never came
    with pytest.raises(RedisConnectionError, match="3 calls waiting"):
        protocol.call((b"PING",))
    assert transport.closed and not protocol.serves(asyncio.get_running_loop())
