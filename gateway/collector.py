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
- collects the oldest generation every FULL_EVERY collections of the middle one instead of 10,
  in smaller, more frequent steps;
- collects the young generation when YOUNG objects more than were freed have been made, not 700.
  A request leaves no reference cycles behind (graphql-core's helpers hold the execution
  weakly: tests/test_billing_page_cost.py), so at 700 the collections only
  walked the objects of the requests in flight and freed nothing: about one every six billing
  pages, 60 µs of CPU a page with the middle and full ones they brought. At YOUNG they come only
  when something does leave cycles (an error's traceback, say): one young and one middle one,
  no full one, in 24 s of billing pages; a young collection of 7,000 objects takes about 0.15 ms
  (bench/README.md). Before the requests stopped leaving cycles, a higher threshold cost more
  CPU, not less."""

from __future__ import annotations

import asyncio
import gc
import logging

FULL_EVERY = 3
YOUNG = 7_000
WARM_UP_SECONDS = 30.0
log = logging.getLogger(__name__)


def tune_for_serving() -> asyncio.TimerHandle:
    """Called once start-up is over, in the serving event loop."""
    _, middle, _ = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, FULL_EVERY)
    gc.collect()
    gc.freeze()
    return asyncio.get_running_loop().call_later(WARM_UP_SECONDS, freeze_after_warm_up)


def freeze_after_warm_up() -> None:
    gc.collect(1)
    gc.freeze()
    log.debug("collector: %d objects frozen", gc.get_freeze_count())
