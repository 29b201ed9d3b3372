"""The per-process caller cache: expiry on the injected clock, forgetting across caches, a lookup
that raced a forgetting keeps nothing, and the size bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing.clock import FixedClock
from resolvers.caller_cache import CallerCache, forget_callers

AT = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
TTL = timedelta(seconds=5)


def test_an_entry_lives_for_its_time_on_the_clock() -> None:
    clock = FixedClock(AT)
    cache: CallerCache[str] = CallerCache(TTL, clock)
    cache.put("k", "caller", cache.generation)
    clock.set(AT + TTL - timedelta(microseconds=1))
    assert cache.get("k") == "caller"
    clock.set(AT + TTL)
    assert cache.get("k") is None


def test_a_clock_gone_back_expires_the_entry() -> None:
    clock = FixedClock(AT)
    cache: CallerCache[str] = CallerCache(TTL, clock)
    cache.put("k", "caller", cache.generation)
    clock.set(AT - timedelta(seconds=1))
    assert cache.get("k") is None


def test_forgetting_empties_every_cache_and_refuses_a_racing_lookup() -> None:
    clock = FixedClock(AT)
    one: CallerCache[str] = CallerCache(TTL, clock)
    two: CallerCache[str] = CallerCache(TTL, clock)
    one.put("k", "caller", one.generation)
    two.put("k", "caller", two.generation)
    started = one.generation  # a lookup starts, then a revocation commits
    forget_callers()
    assert one.get("k") is None and two.get("k") is None
    one.put("k", "stale", started)  # what that lookup read before the revocation
    assert one.get("k") is None


def test_zero_keeps_nothing_and_the_oldest_go_first() -> None:
    clock = FixedClock(AT)
    off: CallerCache[str] = CallerCache(timedelta(0), clock)
    off.put("k", "caller", off.generation)
    assert off.get("k") is None
    small: CallerCache[str] = CallerCache(TTL, clock, max_entries=2)
    for key in ("a", "b"):
        small.put(key, key, small.generation)
    assert small.get("a") == "a"  # used: "b" is now the oldest
    small.put("c", "c", small.generation)
    assert (small.get("a"), small.get("b"), small.get("c")) == ("a", None, "c")
