"""With REDIS_URL, rate-limit counters and registered persisted queries are shared by every
process: here two app instances on the real Redis at 127.0.0.1:6379, each test under a key
prefix of its own (deleted afterwards). `.ci/run` starts Redis; without it these tests skip."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import uuid4

import pytest
import pytest_asyncio
from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from gateway.rate_limit_script import HitAndWindow, Outcome
from gateway.rate_limits import redis_storage_uri
from gateway.script_connection import _Protocol
from gateway.trusted_documents import document_hash
from tests.conftest import Gateway, bearer, error_codes, live_redis, persisted
from tests.test_rate_limits import VIEWER

REDIS_URL = "redis://127.0.0.1:6379/0"
NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest_asyncio.fixture
async def redis_prefix() -> AsyncIterator[str]:
    async with live_redis(REDIS_URL) as redis:
        prefix = f"test-rate-limits-{uuid4().hex[:12]}"
        try:
            yield prefix
        finally:
            keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis.delete(*keys)


async def keys_under(prefix: str) -> list[str]:
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return sorted([key async for key in redis.scan_iter(match=f"{prefix}:*")])
    finally:
        await redis.aclose()


async def test_two_app_instances_share_one_budget(gateway: Gateway, redis_prefix: str) -> None:
    shared = {
        "REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_KEY_PREFIX": redis_prefix,
        "GATEWAY_RATE_LIMIT": "3/minute",
    }
    owner = await bearer("owner@acme.test")
    async with gateway(**shared) as first, gateway(**shared) as second:
        codes = [
            (await first.post("/graphql", json=VIEWER, headers=owner)).status_code,
            (await second.post("/graphql", json=VIEWER, headers=owner)).status_code,
            (await first.post("/graphql", json=VIEWER, headers=owner)).status_code,
        ]
        assert codes == [200, 200, 200]
        for app in (first, second):
            refused = await app.post("/graphql", json=VIEWER, headers=owner)
            assert refused.status_code == 429
            assert error_codes(refused.json()) == ["RATE_LIMITED"]
        other = await second.post("/graphql", json=VIEWER, headers=await bearer("member@acme.test"))
        assert other.status_code == 200
        assert other.headers["RateLimit-Remaining"] == "2"
    assert any("/user/" in key for key in await keys_under(redis_prefix))
    # An instance without Redis counts on its own: the spent budget is not in this process.
    async with gateway(GATEWAY_RATE_LIMIT="3/minute") as alone:
        assert (await alone.post("/graphql", json=VIEWER, headers=owner)).status_code == 200


async def test_a_registered_persisted_query_runs_on_another_instance(
    gateway: Gateway,
    redis_prefix: str,
) -> None:
    shared = {"REDIS_URL": REDIS_URL, "GATEWAY_REDIS_KEY_PREFIX": redis_prefix}
    query = f"query Probe{uuid4().hex} {{ viewer {{ user {{ email }} }} }}"
    sha256 = document_hash(query)
    owner = await bearer("owner@acme.test")
    by_hash = {"extensions": persisted(sha256)}
    async with gateway(**shared) as first, gateway(**shared) as second, gateway() as alone:
        registered = await first.post(
            "/graphql", json={"query": query, "extensions": persisted(sha256)}, headers=owner
        )
        assert registered.json()["data"]["viewer"]["user"]["email"] == "owner@acme.test"

        elsewhere = await second.post("/graphql", json=by_hash, headers=owner)
        assert elsewhere.json() == {"data": {"viewer": {"user": {"email": "owner@acme.test"}}}}
        # Without Redis, another process has not heard of it (the client resends the text).
        unknown = await alone.post("/graphql", json=by_hash, headers=owner)
        assert error_codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]

    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        key = f"{redis_prefix}:apq:{sha256}"
        assert await redis.get(key) == query
        assert 0 < await redis.ttl(key) <= 3600
    finally:
        await redis.aclose()


async def test_anonymous_documents_are_not_shared(gateway: Gateway, redis_prefix: str) -> None:
    shared = {"REDIS_URL": REDIS_URL, "GATEWAY_REDIS_KEY_PREFIX": redis_prefix}
    query = f"query Anonymous{uuid4().hex} {{ __typename }}"
    sha256 = document_hash(query)
    async with gateway(**shared) as first, gateway(**shared) as second:
        ran = await first.post("/graphql", json={"query": query, "extensions": persisted(sha256)})
        assert ran.json()["data"] == {"__typename": "Query"}
        again = await second.post("/graphql", json={"extensions": persisted(sha256)})
        assert error_codes(again.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert not [key for key in await keys_under(redis_prefix) if ":apq:" in key]


async def test_a_stored_document_that_does_not_match_its_hash_is_not_run(
    gateway: Gateway,
    redis_prefix: str,
) -> None:
    sha256 = document_hash("{ __typename }x")
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.set(f"{redis_prefix}:apq:{sha256}", "{ viewer { user { email } } }", ex=60)
    finally:
        await redis.aclose()
    shared = {"REDIS_URL": REDIS_URL, "GATEWAY_REDIS_KEY_PREFIX": redis_prefix}
    async with gateway(**shared) as http:
        answer = await http.post(
            "/graphql",
            json={"extensions": persisted(sha256)},
            headers=await bearer("owner@acme.test"),
        )
    assert error_codes(answer.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_redis_down_falls_back_to_the_process_counters(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    owner = await bearer("owner@acme.test")
    down = {"REDIS_URL": NOBODY_LISTENS, "GATEWAY_RATE_LIMIT": "2/minute"}
    async with gateway(**down) as http:
        answers = [await http.post("/graphql", json=VIEWER, headers=owner) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[0].json()["data"]["viewer"]["user"]["email"] == "owner@acme.test"
        assert answers[0].headers["RateLimit-Remaining"] == "1"
        missing = await http.post(
            "/graphql",
            json={"extensions": persisted(document_hash("{ __typename }"))},
            headers=await bearer("billing@acme.test"),
        )
        assert missing.status_code == 200
        assert error_codes(missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Rate limits: Redis did not answer" in w for w in warnings)
    assert any("Persisted queries: Redis did not answer" in w for w in warnings)


async def test_a_redis_that_never_answers_holds_a_request_at_most_its_timeout(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The rate limits' Redis calls have no socket timeout (gateway/rate_limits.py): each is
    bounded by REDIS_TIMEOUT_SECONDS instead, then the process counts on its own."""
    caplog.set_level(logging.WARNING)
    heard: list[bytes] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heard.append(await reader.read(1024))  # reads the command, never answers
        await asyncio.sleep(60)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    owner = await bearer("owner@acme.test")
    silent_redis = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "GATEWAY_RATE_LIMIT": "2/minute"}
    try:
        async with gateway(**silent_redis) as http:
            answers = [
                await asyncio.wait_for(http.post("/graphql", json=VIEWER, headers=owner), 10)
                for _ in range(3)
            ]
    finally:
        server.close()
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert heard  # the gateway did ask this Redis
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Rate limits: Redis did not answer" in w for w in warnings)


# The process's own connection (gateway/script_connection.py), and redis-py's for the URLs it
# does not serve.
CONNECTIONS = pytest.mark.parametrize("own_connection", [True, False], ids=["own", "redis-py"])


@CONNECTIONS
async def test_one_round_trip_hit_answers_as_the_limits_package(
    redis_prefix: str, own_connection: bool
) -> None:
    """gateway/rate_limit_script.py against `limits`' hit then get_window_stats: the same
    decisions, windows and entries, each on a key of its own under the same budget."""
    storage = RedisStorage(
        redis_storage_uri(REDIS_URL), implementation="redispy", key_prefix=redis_prefix
    )
    limiter = MovingWindowRateLimiter(storage)
    one_call = HitAndWindow(storage, REDIS_URL if own_connection else None)
    item = parse("10/minute")
    for cost in (1, 3, 2, 4, 1, 10, 1):
        allowed, stats = await one_call(item, "script", cost)
        expected = await limiter.hit(item, "limits", cost=cost)
        expected_stats = await limiter.get_window_stats(item, "limits")
        assert (allowed, stats.remaining) == (expected, expected_stats.remaining)
        assert abs(stats.reset_time - expected_stats.reset_time) < 1
    empty = await one_call(item, "never-hit", 11)
    assert empty[0] is False and empty[1].remaining == 10
    assert 59 < empty[1].reset_time - time.time() <= 60
    keys = await keys_under(redis_prefix)
    assert keys == [f"{redis_prefix}:{item.key_for(who)}" for who in ("limits", "script")]
    redis = Redis.from_url(REDIS_URL)
    try:
        assert await redis.llen(keys[0]) == await redis.llen(keys[1]) == 10
    finally:
        await redis.aclose()


async def test_a_signed_in_graphql_request_makes_one_redis_round_trip(
    gateway: Gateway, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its address's failed-authentication budget is checked and its weight spent by one
    script (gateway/rate_limit_script.py FAILURES_THEN_HIT), on the process's own connection
    (gateway/script_connection.py): redis-py sends nothing."""
    commands: list[str] = []
    execute: Callable[..., Awaitable[object]] = Redis.execute_command
    call = _Protocol.call

    async def counted(self: Redis, *args: object, **options: object) -> object:
        commands.append(f"redis-py {args[0]}")
        return await execute(self, *args, **options)

    def counted_own(self: _Protocol, command: tuple[bytes, ...]) -> object:
        commands.append(command[0].decode())
        return call(self, command)

    monkeypatch.setattr(Redis, "execute_command", counted)
    monkeypatch.setattr(_Protocol, "call", counted_own)
    shared = {"REDIS_URL": REDIS_URL, "GATEWAY_REDIS_KEY_PREFIX": redis_prefix}
    owner = await bearer("owner@acme.test")
    async with gateway(**shared) as http:
        await http.post("/graphql", json=VIEWER, headers=owner)  # loads the script once
        commands.clear()
        answer = await http.post("/graphql", json=VIEWER, headers=owner)
        assert answer.json()["data"]["viewer"]["user"]["email"] == "owner@acme.test"
        assert answer.headers["RateLimit-Remaining"] == "598"
    assert commands == ["EVALSHA"]


async def test_failures_counted_by_one_instance_refuse_credentials_on_another(
    gateway: Gateway, redis_prefix: str
) -> None:
    shared = {
        "REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_KEY_PREFIX": redis_prefix,
        "GATEWAY_AUTH_FAILURE_LIMIT": "2/minute",
    }
    bad = {"Authorization": "Bearer not-a-token"}
    owner = await bearer("owner@acme.test")
    async with gateway(**shared) as first, gateway(**shared) as second:
        assert (await first.post("/graphql", json=VIEWER, headers=bad)).status_code == 401
        assert (await second.get("/usage.csv", headers=bad)).status_code == 401
        for app in (first, second):
            for headers in (owner, bad):
                refused = await app.post("/graphql", json=VIEWER, headers=headers)
                assert refused.status_code == 429
                assert "failed sign-ins from this address" in refused.json()["errors"][0]["message"]
                assert refused.headers["RateLimit-Limit"] == "2"
                assert refused.headers["RateLimit-Remaining"] == "0"
        assert (await second.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
    keys = await keys_under(redis_prefix)
    # The refused requests spent nothing: the user's budget was never written.
    assert not [key for key in keys if "/user/" in key]
    assert [key for key in keys if "/auth-failure/" in key]


async def test_redis_down_still_refuses_credentials_from_a_failing_address(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    down = {"REDIS_URL": NOBODY_LISTENS, "GATEWAY_AUTH_FAILURE_LIMIT": "2/minute"}
    bad = {"Authorization": "Bearer not-a-token"}
    owner = await bearer("owner@acme.test")
    async with gateway(**down) as http:
        assert (await http.post("/graphql", json=VIEWER, headers=owner)).status_code == 200
        codes = [(await http.post("/graphql", json=VIEWER, headers=bad)).status_code for _ in "abc"]
        assert codes == [401, 401, 429]
        refused = await http.post("/graphql", json=VIEWER, headers=owner)
        assert refused.status_code == 429
        assert "failed sign-ins from this address" in refused.json()["errors"][0]["message"]
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Rate limits: Redis did not answer" in w for w in warnings)


@CONNECTIONS
async def test_the_one_round_trip_failures_check_answers_as_the_limits_package(
    redis_prefix: str, own_connection: bool
) -> None:
    """FAILURES_THEN_HIT refuses exactly when `limits`' test of the failures window would, with
    that window's stats, and then spends nothing; otherwise it spends as HIT_AND_WINDOW."""
    storage = RedisStorage(
        redis_storage_uri(REDIS_URL), implementation="redispy", key_prefix=redis_prefix
    )
    limiter = MovingWindowRateLimiter(storage)
    one_call = HitAndWindow(storage, REDIS_URL if own_connection else None)
    failures, budget = parse("3/minute"), parse("10/minute")
    for failed in range(5):
        outcome, stats = await one_call.after_failures(failures, "address", budget, "caller", 2)
        room = await limiter.test(failures, "address")
        assert room == (failed < failures.amount)
        assert (outcome is not Outcome.FAILING) == room
        if room:
            expected = await limiter.get_window_stats(budget, "caller")
            assert outcome is Outcome.SPENT
        else:
            expected = await limiter.get_window_stats(failures, "address")
        assert stats.remaining == expected.remaining
        assert abs(stats.reset_time - expected.reset_time) < 1
        await limiter.hit(failures, "address")
    # Three requests spent 2 units each before the failures window filled; none after.
    assert (await limiter.get_window_stats(budget, "caller")).remaining == 4
    refused, _ = await one_call.after_failures(parse("3/minute"), "nobody", budget, "caller", 5)
    assert refused is Outcome.REFUSED
