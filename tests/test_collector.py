"""gateway/collector.py: `serve` freezes what start-up built, freezes again after its warm-up and
collects the oldest generation more often; other uses of the app leave the collector alone."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from billing.clock import FixedClock
from gateway import app as gateway_app
from gateway import collector, processes
from gateway.app import create_app
from gateway.settings import Settings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_a_serving_app_tunes_the_collector_once_started(
    settings: Settings, clock: FixedClock, restored_collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmed_up: list[bool] = []
    monkeypatch.setattr(collector, "WARM_UP_SECONDS", 0.01)
    monkeypatch.setattr(collector, "freeze_after_warm_up", lambda: warmed_up.append(True))
    gc.unfreeze()
    _, middle, _ = gc.get_threshold()
    app = create_app(settings, clock, manage_database=False, tune_collector=True)
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == (collector.YOUNG, middle, collector.FULL_EVERY)
        assert gc.get_freeze_count() > 10_000  # the schema, Tortoise, the modules
        await asyncio.sleep(0.05)
        assert warmed_up == [True]  # once, after WARM_UP_SECONDS


async def test_other_apps_leave_the_collector_alone(
    settings: Settings, clock: FixedClock, restored_collector: None
) -> None:
    gc.unfreeze()
    threshold = gc.get_threshold()
    app = create_app(settings, clock, manage_database=False)
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == threshold
        assert gc.get_freeze_count() == 0


def test_the_warm_up_freezes_what_survived_it(restored_collector: None) -> None:
    gc.unfreeze()
    survivors = [[n] for n in range(1000)]
    collector.freeze_after_warm_up()
    assert gc.get_freeze_count() >= len(survivors)


def test_serve_builds_its_apps_with_the_collector_tuned(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, Any]] = []

    def recording_create_app(*args: Any, **kwargs: Any) -> object:
        built.append(kwargs)
        return object()

    class NotServing:
        def __init__(self, config: object) -> None:
            pass

        def run(self, sockets: object) -> None:
            pass

    monkeypatch.setattr(gateway_app, "create_app", recording_create_app)
    monkeypatch.setattr(gateway_app, "load_settings", lambda: settings)
    monkeypatch.setattr(gateway_app, "configure_logging", lambda _: None)
    monkeypatch.setattr(uvicorn, "Server", NotServing)
    listener = processes.tcp_listener("127.0.0.1", 0)
    try:
        processes.serve_one(listener, settings)  # `serve`
    finally:
        listener.close()
    gateway_app.app_from_environment()  # each process of `serve --workers N`
    assert [kwargs["tune_collector"] for kwargs in built] == [True, True]
