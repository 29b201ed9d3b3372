"""SharedLoader: a field cancelled by graphql-core (a failed sibling) does not cancel the load
the other fields asking for the same key await."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.loaders import SharedLoader


async def test_cancelling_one_caller_leaves_the_shared_load_to_the_others() -> None:
    batches: list[list[int]] = []

    async def double(keys: list[int]) -> list[int]:
        batches.append(keys)
        await asyncio.sleep(0.01)
        return [key * 2 for key in keys]

    loader: SharedLoader[int, int] = SharedLoader(double)
    cancelled = asyncio.ensure_future(loader.load(21))
    waiting = asyncio.ensure_future(loader.load(21))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert await waiting == 42
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert batches == [[21]]  # one load, shared
