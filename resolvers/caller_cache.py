"""The callers a process has authenticated, kept for a short time (GATEWAY_CALLER_CACHE_SECONDS)
so a request costs no SQL statement to know who is asking: an API key (by its prefix, with the
hash its secret must match) or a user and their roles.

A revocation, a role or membership change made in this process forgets every kept caller of the
process at once (`forget_callers`, called after the change commits); one made by another process
(`billing-gateway api-key revoke`, another worker) is seen once the entry expires. Entries are
only ever added by a lookup that started after the last forgetting, so a lookup racing a change
cannot keep what the change replaced. Only callers that were found are kept: an unknown key costs
its lookup every time.

Written here rather than taken from a library (cachetools' TTLCache): it is small, and it needs
the gateway's injectable clock and the forgetting across every cache of the process."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from billing.clock import Clock

V = TypeVar("V")
MAX_ENTRIES = 10_000

_caches: weakref.WeakSet[CallerCache[object]] = weakref.WeakSet()


def forget_callers() -> None:
    """Call after a change to an API key, a user or a membership commits."""
    for cache in list(_caches):
        cache.forget()


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    stored_at: datetime


class CallerCache(Generic[V]):
    def __init__(self, ttl: timedelta, clock: Clock, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()
        self._generation = 0
        _caches.add(self)  # type: ignore[arg-type]

    @property
    def generation(self) -> int:
        """Read before a lookup; `put` keeps its answer only if nothing was forgotten since."""
        return self._generation

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock.now()
        if not entry.stored_at <= now < entry.stored_at + self.ttl:  # expired, or the clock
            del self._entries[key]  # went back
            return None
        self._entries.move_to_end(key)
        return entry.value

    def put(self, key: Hashable, value: V, generation: int) -> None:
        if self.ttl <= timedelta(0) or generation != self._generation:
            return
        self._entries[key] = _Entry(value, self._clock.now())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self) -> None:
        self._entries.clear()
        self._generation += 1
