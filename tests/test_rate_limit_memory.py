"""The process's own counters (gateway/rate_limit_memory.py) decide as `limits`' MemoryStorage
does; only the trimming of expired entries runs at most once a second."""

from __future__ import annotations

import asyncio

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gateway.rate_limit_memory import TrimmedMemoryStorage


async def _decisions(storage: MemoryStorage) -> list[object]:
    limiter = MovingWindowRateLimiter(storage)
    item = parse("3/second")
    seen: list[object] = [await limiter.hit(item, "key", cost=c) for c in (1, 2, 1, 1)]
    stats = await limiter.get_window_stats(item, "key")
    seen.append(stats.remaining)
    await asyncio.sleep(1.05)
    seen += [await limiter.hit(item, "key"), await limiter.test(item, "key", cost=3)]
    return seen


async def test_the_same_decisions_as_memory_storage() -> None:
    assert await _decisions(TrimmedMemoryStorage()) == await _decisions(MemoryStorage())


async def test_expired_entries_are_trimmed_at_most_once_a_second() -> None:
    storage = TrimmedMemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    item = parse("100/second")
    await limiter.hit(item, "key")
    first = storage.timer
    for _ in range(5):
        await limiter.hit(item, "key")
    assert storage.timer is first
    await asyncio.sleep(1.05)
    await limiter.hit(item, "key")
    assert storage.timer is not first
    await asyncio.sleep(0.05)
    assert len(storage.events.get("key", [])) <= 1  # the six of a second ago are gone
