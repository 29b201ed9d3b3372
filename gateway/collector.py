"""The garbage collector of a serving process (README "Operations", bench/README.md).

With CPython's defaults a full collection came every few hundred pages and walked the whole heap,
the ~190,000 objects of the schema, Tortoise and the modules included: 150 ms and more of one
request's wait. So `serve` (each of its processes):
- collects once and freezes what start-up built (`gc.freeze()`: the permanent generation, never
  walked again), before the first request;
- WARM_UP_SECONDS later freezes what the first requests left alive for good (the catalog
  snapshot, parsed documents, the caches' first entries), after a collection of the young
  generations only: a full one then would walk everything built since start-up while requests
  wait. Once only: an object frozen and later left in a reference cycle is never freed;
- collects the oldest generation every FULL_EVERY collections of the middle one instead of 10:
  what the requests in flight leave there (their DataLoaders and futures hold reference cycles)
  is then walked in smaller, more frequent steps.

The young generation's threshold stays CPython's (700): raised to 5,000 or more, the page cost
more CPU, not less (bench/README.md)."""

from __future__ import annotations

import asyncio
import gc
import logging

FULL_EVERY = 3
WARM_UP_SECONDS = 30.0
log = logging.getLogger(__name__)


def tune_for_serving() -> asyncio.TimerHandle:
    """Called once start-up is over, in the serving event loop."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_EVERY)
    gc.collect()
    gc.freeze()
    return asyncio.get_running_loop().call_later(WARM_UP_SECONDS, freeze_after_warm_up)


def freeze_after_warm_up() -> None:
    gc.collect(1)
    gc.freeze()
    log.debug("collector: %d objects frozen", gc.get_freeze_count())
