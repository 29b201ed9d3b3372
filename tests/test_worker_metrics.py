"""A worker's own /metrics and /health (`billing-gateway worker --metrics-port`, README
"Operations"): the same reading rule as serve's /metrics, this worker's renewals and charges, and
the clock's lag; served by the worker process itself until it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from payments.sandbox import SandboxProcessor
from resolvers.billing_clock import run_claimed_work
from tests.conftest import SEEDED_AT, free_port
from tests.factories import organization_with
from tests.test_cli import COMMAND, CONFIG_VARIABLES, run
from tests.test_metrics import samples

ENDED = (SEEDED_AT - timedelta(days=31), SEEDED_AT - timedelta(hours=3))
TOKEN = "worker-scrape-" + "w" * 20


@pytest_asyncio.fixture
async def worker_metrics(database: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    from gateway.worker_metrics import worker_metrics_app

    transport = httpx.ASGITransport(
        app=worker_metrics_app(TOKEN, clock), client=("127.0.0.1", 40000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://worker.test") as http:
        yield http


async def _scrape(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


async def test_a_worker_answers_its_health_and_refuses_metrics_without_the_token(
    worker_metrics: httpx.AsyncClient,
) -> None:
    health = await worker_metrics.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    # The token rule of serve's /metrics: with GATEWAY_METRICS_TOKEN set, even loopback asks it.
    for headers in ({}, {"Authorization": "Bearer not-the-token-at-all"}):
        refused = await worker_metrics.get("/metrics", headers=headers)
        assert refused.status_code == 403
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "GATEWAY_METRICS_TOKEN" in error["message"]


async def test_a_workers_renewals_and_charges_show_in_its_metrics(
    worker_metrics: httpx.AsyncClient,
) -> None:
    ids: list[UUID] = []
    for _ in range(3):
        organization, _ = await organization_with(
            [{"product": "store", "plan": "business"}], period=ENDED
        )
        ids.append(organization.id)
    before = await _scrape(worker_metrics)
    events = await run_claimed_work(SEEDED_AT, SandboxProcessor(), batch=2, organization_ids=ids)
    assert len([e for e in events if "renewed to" in e]) == 3, events
    after = await _scrape(worker_metrics)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("billing_gateway_renewals_total") == 3
    assert grew("billing_gateway_charges_total", outcome="succeeded") == 3
    assert ("billing_gateway_clock_lag_seconds", ()) in after
    assert ("billing_gateway_outbox_depth", (("outbox", "email"),)) in after


def _get(url: str, **headers: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow  # starts a worker process
def test_a_worker_process_serves_its_metrics_until_it_stops(tmp_path: Path) -> None:
    assert run(tmp_path, "seed-demo").returncode == 0
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    clean.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [COMMAND, "worker", "--every", "0.2", "--batch", "5", "--metrics-port", str(port)],
        cwd=tmp_path,
        env={**clean, "GATEWAY_METRICS_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert _get(f"{url}/health").json() == {"status": "ok"}
        assert _get(f"{url}/metrics").status_code == 403
        scraped = _get(f"{url}/metrics", Authorization=f"Bearer {TOKEN}")
        assert scraped.status_code == 200, scraped.text
        names = {name for name, _ in samples(scraped.text)}
        assert "billing_gateway_clock_lag_seconds" in names
        assert "billing_gateway_outbox_depth" in names
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"batches of 5, metrics at {url}/metrics" in stdout
    assert "Traceback" not in stderr
    with pytest.raises(httpx.TransportError):  # stopped with the worker
        httpx.get(f"{url}/health", timeout=2)
