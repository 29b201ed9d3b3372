"""A rate-limit hit in Redis in one round trip (gateway/rate_limits.py).

The `limits` package spends a unit with one script (acquire_moving_window.lua) and reads the
window for the headers with another (moving_window.lua): two round trips per request. This
script does both, on the same list under the same key, with the same logic, and answers what
both would have: whether the units were spent, then the oldest entry still in the window and
how many entries are in it (none when the window is empty)."""

from __future__ import annotations

import time

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.util import WindowStats

# KEYS[1]: the window's list, newest entry first. ARGV: now, limit, expiry, amount.
HIT_AND_WINDOW = """
local timestamp = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local start = timestamp - expiry

local acquired = 0
if amount <= limit then
    local entry = redis.call('lindex', KEYS[1], limit - amount)
    if not (entry and tonumber(entry) >= start) then
        local entries = {}
        for i = 1, amount do
            entries[i] = timestamp
        end
        for i = 1, #entries, 5000 do
            redis.call('lpush', KEYS[1], unpack(entries, i, math.min(i + 4999, #entries)))
        end
        redis.call('ltrim', KEYS[1], 0, limit - 1)
        redis.call('expire', KEYS[1], expiry)
        acquired = 1
    end
end

local low, high, index = 0, limit - 1, nil
while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', KEYS[1], mid))
    if value and value >= start then
        index = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if index then
    -- As a string (Redis would cut a Lua number to an integer), formatted as limits' does.
    local oldest = tonumber(redis.call('lindex', KEYS[1], index))
    return {acquired, tostring(oldest), index + 1}
end
return {acquired}
"""


class HitAndWindow:
    """`MovingWindowRateLimiter.hit` then `.get_window_stats` on `storage`, in one call."""

    def __init__(self, storage: RedisStorage) -> None:
        bridge = storage.bridge
        assert isinstance(bridge, RedispyBridge)  # gateway/rate_limits.py asks for redis-py
        self._bridge = bridge
        self._script = bridge.get_connection().register_script(HIT_AND_WINDOW.encode())
        self.errors = storage.base_exceptions

    async def __call__(self, item: RateLimitItem, key: str, cost: int) -> tuple[bool, WindowStats]:
        expiry = item.get_expiry()
        timestamp = time.time()
        answer = await self._script(
            keys=[self._bridge.prefixed_key(item.key_for(key))],
            args=[timestamp, item.amount, expiry, cost],
        )
        if len(answer) == 3:
            start, count = float(answer[1]), int(answer[2])
        else:
            start, count = timestamp, 0
        return bool(answer[0]), WindowStats(start + expiry, item.amount - count)
