"""Rate limits per caller (README "Rate limits"), kept by the `limits` package.

Each caller has a budget of weighted units per window (a request weighs its estimated cost:
gateway/request_weight.py): a user and an API key their own, an anonymous request its client
address's. Failed authentications spend a separate, smaller budget of their client address
(gateway/auth_failures.py). A GraphQL request that bears credentials has its address's
failures window checked and its weight spent in one Redis round trip (`spend` with
`failures_of`, gateway/rate_limit_script.py); an address refused for its failures is remembered
by the process until the window's oldest failure leaves it (`known_failing`).

The moving window is exact (no burst at a window's edge); it keeps at most one entry per unit
of the budget for each caller. With REDIS_URL the counters are shared by every process; if
Redis does not answer, each process falls back to its own counters for REDIS_RETRY_SECONDS (a
warning is logged, at most once a minute) rather than refusing everyone or letting everyone
through."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.util import WindowStats
from starlette.responses import Response

from gateway import request_weight
from gateway.http_errors import error_response
from gateway.metrics import RATE_LIMITED as RATE_LIMITED_REQUESTS
from gateway.rate_limit_memory import TrimmedMemoryStorage
from gateway.rate_limit_script import HitAndWindow, Outcome
from gateway.settings import Mode, Settings
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.viewer import Viewer

RATE_LIMITED = "RATE_LIMITED"
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 5.0  # after Redis failed to answer, how long to count in the process only
_WARN_EVERY_SECONDS = 60.0
_FAILING_REMEMBERED = 10_000  # addresses
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest unit spent in the window is given back
    reset_at: float = field(default=0.0, compare=False)  # that instant, time.time()'s clock

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class RateLimited(Exception):
    def __init__(self, decision: Decision, message: str) -> None:
        super().__init__(message)
        self.decision = decision
        self.message = message

    def response(self) -> Response:
        RATE_LIMITED_REQUESTS.inc()
        response = error_response(429, RATE_LIMITED, self.message)
        response.headers.update(self.decision.headers())
        return response


def redis_storage_uri(redis_url: str) -> str:
    """REDIS_URL (redis://, rediss://, unix://) as the `limits` async storage URI."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self.caller = parse(settings.rate_limit)
        self.anonymous = parse(settings.rate_limit_anonymous)
        self.auth_failures = parse(settings.auth_failure_limit)
        self._local = MovingWindowRateLimiter(TrimmedMemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        self._shared_hit: HitAndWindow | None = None
        if settings.redis_url:
            storage = RedisStorage(
                redis_storage_uri(settings.redis_url),
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=f"{settings.redis_key_prefix}:rate",
                # No socket timeout (redis-py's default is 5 s): with one, redis-py runs every
                # write in a task of its own (asyncio.wait_for) on Python 3.11. Each call is
                # bounded below instead, by REDIS_TIMEOUT_SECONDS as the socket timeout did.
                socket_timeout=None,  # type: ignore[arg-type]  # redis-py: None, no timeout
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._shared = MovingWindowRateLimiter(storage)
            self._shared_hit = HitAndWindow(
                storage, settings.redis_url, connect_timeout=REDIS_TIMEOUT_SECONDS
            )
        # Addresses refused for failed authentications, until their window's oldest failure
        # leaves it: the window stays full until then, so Redis would refuse them too.
        self._failing_until: dict[str, float] = {}
        self._warned_at = -math.inf
        self._redis_retry_at = -math.inf
        if settings.mode is Mode.PRODUCTION and not settings.trusted_proxies:
            log.warning(
                "GATEWAY_TRUSTED_PROXIES is empty: every request's client address is its TCP "
                "peer, so behind a load balancer all anonymous callers share one budget"
            )

    async def spend(
        self,
        caller: Viewer | ApiKeyPrincipal | None,
        address: str,
        cost: int,
        *,
        failures_of: str | None = None,
    ) -> Decision:
        """Spends the request's weight (from its estimated cost) from its caller's budget;
        raises RateLimited. With `failures_of`, an address: first refuses, spending nothing,
        while that address has spent its failed-authentication budget (as
        `refuse_credentials_while_failing`), in the same Redis round trip."""
        weight = request_weight.request_weight(cost)
        if isinstance(caller, Viewer):
            item, key, who = self.caller, f"user/{caller.user_id}", "this user"
        elif isinstance(caller, ApiKeyPrincipal):
            item, key, who = self.caller, f"api-key/{caller.key_id}", "this API key"
        else:
            item, key, who = self.anonymous, f"address/{address}", "anonymous requests from here"
        if failures_of is None:
            decision = await self._hit(item, key, weight)
        else:
            decision = await self._hit_unless_failing(failures_of, item, key, weight)
        if not decision.allowed:
            raise RateLimited(
                decision,
                f"Rate limit reached for {who}: {item.amount} units per {_window(item)}, and "
                f"this request weighs {weight}. Retry in {decision.headers()['Retry-After']} s.",
            )
        return decision

    def close(self) -> None:
        """Closes the process's own Redis connection (gateway/script_connection.py)."""
        if self._shared_hit is not None:
            self._shared_hit.close()

    def known_failing(self, address: str) -> RateLimited | None:
        """The refusal of an address this process has seen spend its failed-authentication
        budget, while that budget is still spent (no round trip)."""
        until = self._failing_until.get(address)
        if until is None:
            return None
        now = time.time()
        if now >= until:
            del self._failing_until[address]
            return None
        item = self.auth_failures
        decision = Decision(False, item.amount, 0, max(0, math.ceil(until - now)), until)
        return RateLimited(decision, self._failures_message(decision))

    async def refuse_credentials_while_failing(self, address: str) -> None:
        """Raises RateLimited while the address has spent its failed-authentication budget."""
        decision = await self._peek(self.auth_failures, _failures_key(address))
        if decision is not None:
            raise self._failing(address, decision)

    async def authentication_failed(self, address: str) -> None:
        """Counts a failed authentication against its address's budget."""
        await self._hit(self.auth_failures, _failures_key(address), 1)

    async def count_failure_unless_failing(self, address: str) -> RateLimited | None:
        """Counts a failed authentication, in one round trip; when the address's budget was
        already spent, counts nothing and answers the refusal its credentials get instead."""
        decision = await self._hit(self.auth_failures, _failures_key(address), 1)
        return None if decision.allowed else self._failing(address, decision)

    def _failing(self, address: str, decision: Decision) -> RateLimited:
        """The refusal of a failing address's credentials, remembered until it ends."""
        if len(self._failing_until) >= _FAILING_REMEMBERED:
            now = time.time()
            self._failing_until = {a: t for a, t in self._failing_until.items() if t > now}
            if len(self._failing_until) >= _FAILING_REMEMBERED:
                del self._failing_until[next(iter(self._failing_until))]
        self._failing_until[address] = decision.reset_at
        return RateLimited(decision, self._failures_message(decision))

    def _failures_message(self, decision: Decision) -> str:
        item = self.auth_failures
        return (
            f"Too many failed sign-ins from this address: {item.amount} per {_window(item)}. "
            f"Retry in {decision.headers()['Retry-After']} s with valid credentials."
        )

    async def _hit(self, item: RateLimitItem, key: str, weight: int) -> Decision:
        # A request heavier than the whole budget spends all of it rather than never running.
        cost = min(max(weight, 1), item.amount)
        if self._redis() is not None and (hit := self._shared_hit) is not None:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                    allowed, stats = await hit(item, key, cost)
            except hit.errors as error:
                self._warn(StorageError(error))
            except TimeoutError as error:
                self._warn(StorageError(error))
            else:
                return _decision(allowed, item, stats)
        return await _hit(self._local, item, key, cost)

    async def _hit_unless_failing(
        self, address: str, item: RateLimitItem, key: str, weight: int
    ) -> Decision:
        """`_hit`, after the address's failures window was found to have room (one round trip
        with Redis); raises RateLimited, spending nothing, while it has none."""
        cost = min(max(weight, 1), item.amount)
        failures, failures_key = self.auth_failures, _failures_key(address)
        if self._redis() is not None and (hit := self._shared_hit) is not None:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                    outcome, stats = await hit.after_failures(
                        failures, failures_key, item, key, cost
                    )
            except hit.errors as error:
                self._warn(StorageError(error))
            except TimeoutError as error:
                self._warn(StorageError(error))
            else:
                if outcome is Outcome.FAILING:
                    raise self._failing(address, _decision(False, failures, stats))
                return _decision(outcome is Outcome.SPENT, item, stats)
        refused = await _peek(self._local, failures, failures_key)
        if refused is not None:
            raise self._failing(address, refused)
        return await _hit(self._local, item, key, cost)

    async def _peek(self, item: RateLimitItem, key: str) -> Decision | None:
        if (shared := self._redis()) is not None:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                    return await _peek(shared, item, key)
            except StorageError as error:
                self._warn(error)
            except TimeoutError as error:
                self._warn(StorageError(error))
        return await _peek(self._local, item, key)

    def _redis(self) -> MovingWindowRateLimiter | None:
        """The shared limiter, unless Redis failed to answer in the last REDIS_RETRY_SECONDS."""
        return self._shared if time.monotonic() >= self._redis_retry_at else None

    def _warn(self, error: StorageError) -> None:
        now = time.monotonic()
        self._redis_retry_at = now + REDIS_RETRY_SECONDS
        if now - self._warned_at >= _WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning(
                "Rate limits: Redis did not answer (%s); this process counts on its own", error
            )


async def _hit(
    limiter: MovingWindowRateLimiter, item: RateLimitItem, key: str, cost: int
) -> Decision:
    allowed = await limiter.hit(item, key, cost=cost)
    return _decision(allowed, item, await limiter.get_window_stats(item, key))


async def _peek(limiter: MovingWindowRateLimiter, item: RateLimitItem, key: str) -> Decision | None:
    """The refusal the next hit would get, or None while there is room."""
    if await limiter.test(item, key):
        return None
    return _decision(False, item, await limiter.get_window_stats(item, key))


def _decision(allowed: bool, item: RateLimitItem, stats: WindowStats) -> Decision:
    reset = max(0, math.ceil(stats.reset_time - time.time()))
    return Decision(allowed, item.amount, max(0, int(stats.remaining)), reset, stats.reset_time)


def _failures_key(address: str) -> str:
    return f"auth-failure/{address}"


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"
