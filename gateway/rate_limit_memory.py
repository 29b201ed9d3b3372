"""The process's own rate-limit counters: `limits`' MemoryStorage, trimmed at most once a second.

MemoryStorage starts a task that trims expired entries on every hit, and the task hands each
key's search to a thread (`asyncio.to_thread`): a thread hop per request, about a twentieth of
the gateway's CPU on ingestion's hot path (bench/README.md). Trimming only frees memory: a hit
and the window's statistics compare each entry's time with the window themselves, so what is
allowed and the headers sent are the same however late expired entries are dropped."""

from __future__ import annotations

import time

from limits.aio.storage import MemoryStorage

TRIM_EVERY_SECONDS = 1.0


class TrimmedMemoryStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self._trimmed_at = -TRIM_EVERY_SECONDS

    # MemoryStorage calls its private `__schedule_expiry` before each change; this replaces it.
    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._trimmed_at < TRIM_EVERY_SECONDS:
            return
        self._trimmed_at = now
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]
