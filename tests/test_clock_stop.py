"""At shutdown the billing clock finishes the batch it is in (gateway/worker.py)."""

from __future__ import annotations

import asyncio

import pytest

from billing.clock import FixedClock
from gateway import worker
from payments.sandbox import SandboxProcessor
from tests.conftest import SEEDED_AT


async def test_stop_waits_for_the_tick_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    started, finished = asyncio.Event(), []

    async def slow_tick(*_: object, **__: object) -> list[str]:
        started.set()
        await asyncio.sleep(0.3)  # a batch of renewals
        finished.append(True)
        return []

    monkeypatch.setattr(worker, "tick", slow_tick)
    stop = asyncio.Event()
    task = asyncio.create_task(
        worker.run_periodically(FixedClock(SEEDED_AT), SandboxProcessor(), 3600, stop=stop)
    )
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert finished == [True]  # finished, not cancelled half-way
    # And a clock asked to stop between ticks stops at once, without waiting out its pause.
    task = asyncio.create_task(
        worker.run_periodically(FixedClock(SEEDED_AT), SandboxProcessor(), 3600, stop=stop)
    )
    await asyncio.wait_for(task, 1)
    assert finished == [True]
