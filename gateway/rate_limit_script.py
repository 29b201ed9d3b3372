"""Rate-limit hits in Redis in one round trip (gateway/rate_limits.py).

The `limits` package spends a unit with one script (acquire_moving_window.lua) and reads the
window for the headers with another (moving_window.lua): two round trips per request. HIT_AND_WINDOW
does both, on the same list under the same key, with the same logic, and answers what both would
have: whether the units were spent, then the oldest entry still in the window and how many
entries are in it (none when the window is empty).

FAILURES_THEN_HIT is the GraphQL request's one round trip (gateway/auth_failures.py): it first
reads its address's failed-authentication window as `limits`' `test` would (moving_window.lua's
search, the same key `authentication_failed` writes to) and, only while that window has room,
spends the caller's units as HIT_AND_WINDOW does. A full failures window answers -1 with that
window's oldest entry and count, and spends nothing.

Both run on the process's own pipelined connection (gateway/script_connection.py) when REDIS_URL
is a plain redis:// URL, and through the storage's redis-py client otherwise."""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.util import WindowStats

from gateway.script_connection import Script, ScriptConnection, has_own_connection

_FUNCTIONS = """
local function window(key, limit, start)
    local low, high, index = 0, limit - 1, nil
    while low <= high do
        local mid = math.floor((low + high) / 2)
        local value = tonumber(redis.call('lindex', key, mid))
        if value and value >= start then
            index = mid
            low = mid + 1
        else
            high = mid - 1
        end
    end
    if index then
        -- As a string (Redis would cut a Lua number to an integer), formatted as limits' does.
        return tostring(tonumber(redis.call('lindex', key, index))), index + 1
    end
    return nil, 0
end

local function hit(key, timestamp, limit, expiry, amount)
    local start = timestamp - expiry
    local acquired = 0
    if amount <= limit then
        local entry = redis.call('lindex', key, limit - amount)
        if not (entry and tonumber(entry) >= start) then
            local entries = {}
            for i = 1, amount do
                entries[i] = timestamp
            end
            for i = 1, #entries, 5000 do
                redis.call('lpush', key, unpack(entries, i, math.min(i + 4999, #entries)))
            end
            redis.call('ltrim', key, 0, limit - 1)
            redis.call('expire', key, expiry)
            acquired = 1
        end
    end
    local oldest, count = window(key, limit, start)
    if oldest then
        return {acquired, oldest, count}
    end
    return {acquired}
end
"""

# KEYS[1]: the window's list, newest entry first. ARGV: now, limit, expiry, amount.
HIT_AND_WINDOW = (
    _FUNCTIONS
    + """
return hit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
"""
)

# KEYS[1]: the address's failed-authentication list, KEYS[2]: the caller's.
# ARGV: now, failures limit, failures expiry, limit, expiry, amount.
FAILURES_THEN_HIT = (
    _FUNCTIONS
    + """
local timestamp = tonumber(ARGV[1])
local failures = tonumber(ARGV[2])
local oldest, count = window(KEYS[1], failures, timestamp - tonumber(ARGV[3]))
-- limits' test: room while the window holds at most limit - 1 entries.
if count > failures - 1 then
    return {-1, oldest, count}
end
return hit(KEYS[2], timestamp, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
"""
)


class Outcome(enum.Enum):
    SPENT = "spent"
    REFUSED = "refused"  # the caller's budget has not room for the units
    FAILING = "failing"  # the address's failed-authentication budget is spent: nothing spent


class HitAndWindow:
    """`MovingWindowRateLimiter.hit` then `.get_window_stats` on `storage`, in one call; with
    `after_failures`, `.test` of the failures window first, in the same call."""

    def __init__(
        self, storage: RedisStorage, redis_url: str | None = None, connect_timeout: float = 0.5
    ) -> None:
        """`redis_url`: the URL `storage` was opened with, for a connection of its own."""
        bridge = storage.bridge
        assert isinstance(bridge, RedispyBridge)  # gateway/rate_limits.py asks for redis-py
        self._bridge = bridge
        self.errors = storage.base_exceptions
        self._own: ScriptConnection | None = None
        self._script: Callable[..., Awaitable[Any]]
        self._failures_then_hit: Callable[..., Awaitable[Any]]
        if redis_url is not None and has_own_connection(redis_url):
            self._own = ScriptConnection(redis_url, connect_timeout=connect_timeout)
            self._script = _OwnScript(self._own, HIT_AND_WINDOW.encode())
            self._failures_then_hit = _OwnScript(self._own, FAILURES_THEN_HIT.encode())
        else:
            connection = bridge.get_connection()
            self._script = connection.register_script(HIT_AND_WINDOW.encode())
            self._failures_then_hit = connection.register_script(FAILURES_THEN_HIT.encode())

    def close(self) -> None:
        if self._own is not None:
            self._own.close()

    async def __call__(self, item: RateLimitItem, key: str, cost: int) -> tuple[bool, WindowStats]:
        expiry = item.get_expiry()
        timestamp = time.time()
        answer = await self._script(
            keys=[self._bridge.prefixed_key(item.key_for(key))],
            args=[timestamp, item.amount, expiry, cost],
        )
        return bool(answer[0]), _stats(answer, item, timestamp)

    async def after_failures(
        self,
        failures: RateLimitItem,
        failures_key: str,
        item: RateLimitItem,
        key: str,
        cost: int,
    ) -> tuple[Outcome, WindowStats]:
        """FAILING with the failures window's stats, else the hit's outcome and window."""
        timestamp = time.time()
        answer = await self._failures_then_hit(
            keys=[
                self._bridge.prefixed_key(failures.key_for(failures_key)),
                self._bridge.prefixed_key(item.key_for(key)),
            ],
            args=[
                timestamp,
                failures.amount,
                failures.get_expiry(),
                item.amount,
                item.get_expiry(),
                cost,
            ],
        )
        if answer[0] == -1:
            return Outcome.FAILING, _stats(answer, failures, timestamp)
        return Outcome.SPENT if answer[0] else Outcome.REFUSED, _stats(answer, item, timestamp)


class _OwnScript:
    """A script run as redis-py's registered scripts are called: keys and args by name."""

    def __init__(self, connection: ScriptConnection, source: bytes) -> None:
        self._connection = connection
        self._script = Script(source)

    async def __call__(self, *, keys: list[str], args: list[Any]) -> Any:
        return await self._connection.run(self._script, keys, args)


def _stats(answer: list[Any], item: RateLimitItem, timestamp: float) -> WindowStats:
    if len(answer) == 3:
        start, count = float(answer[1]), int(answer[2])
    else:
        start, count = timestamp, 0
    return WindowStats(start + item.get_expiry(), item.amount - count)
