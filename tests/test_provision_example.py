"""examples/provision.py, the SaaS backend's provisioning script (PRV-1), works: through the ASGI
app, and as a program against a freshly served gateway with no demo organizations."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from uuid import uuid4

import httpx
import pytest

from billing.access import Role
from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings
from models import (
    Membership,
    Organization,
    Subscription,
    WebhookEndpoint,
    Workspace,
)
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, free_port
from tests.test_cli import COMMAND, CONFIG_VARIABLES, run

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "provision.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("provision_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.usefixtures("database")
async def test_the_example_provisions_once_through_the_app_rule_prv_1(
    settings: Settings, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _example()
    key = await create_api_key(None, "saas backend", ["organizations:write"], SEEDED_AT)
    app = create_app(settings, clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        first = await example.provision(http, key)
        printed_first = capsys.readouterr().out
        again = await example.provision(http, key)
        printed_again = capsys.readouterr().out
    assert printed_first.count(": done") == 4
    assert printed_again.count("already done (a resend)") == 4
    assert first == again
    assert (first["status"], first["plans"][0]["plan"]) == ("TRIALING", "plus")
    organization = await Organization.get(external_id=example.CUSTOMER)
    roles = await Membership.filter(organization=organization).values_list("role", flat=True)
    assert sorted(str(role) for role in roles) == [Role.BILLING_ADMIN.value, Role.OWNER.value]
    assert await Workspace.filter(organization=organization).count() == 1
    assert await Subscription.filter(organization=organization).count() == 1


@pytest.mark.usefixtures("database")
async def test_the_example_registers_its_webhook_endpoint_once_rule_evt_1(
    settings: Settings, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _example()
    scopes = ["organizations:write", "webhooks:write"]
    key = await create_api_key(None, "saas backend", scopes, SEEDED_AT)
    app = create_app(replace(settings, webhooks_allow_private=True), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    url = f"http://127.0.0.1:9/billing-events/{uuid4().hex}"
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        await example.provision(http, key, url)
        printed_first = capsys.readouterr().out
        await example.provision(http, key, url)
        printed_again = capsys.readouterr().out
    endpoint = await WebhookEndpoint.get(url=url)
    try:
        assert f"webhook endpoint: done: {endpoint.id} for {url}" in printed_first
        assert f"signing secret (shown this once, store it now): {endpoint.secret}" in printed_first
        assert f"already registered (a resend): {endpoint.id}" in printed_again
        assert endpoint.secret not in printed_again
        assert await WebhookEndpoint.filter(url=url).count() == 1
        assert sorted(endpoint.events) == sorted(example.WEBHOOK_EVENTS)
    finally:  # the session's other tests send no events to it
        endpoint.disabled_at = SEEDED_AT
        await endpoint.save(update_fields=["disabled_at"])


@pytest.mark.usefixtures("database")
async def test_a_key_without_webhooks_write_is_told_so_and_provisions_nothing_rule_acc_6(
    settings: Settings, clock: FixedClock
) -> None:
    example = _example()
    key = await create_api_key(None, "saas backend", ["organizations:write"], SEEDED_AT)
    app = create_app(replace(settings, webhooks_allow_private=True), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    url = f"http://127.0.0.1:9/billing-events/{uuid4().hex}"
    organizations = await Organization.all().count()
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        with pytest.raises(example.GatewayError, match=r"FORBIDDEN.*webhooks:write"):
            await example.provision(http, key, url)
    assert await WebhookEndpoint.filter(url=url).count() == 0
    assert await Organization.all().count() == organizations


@contextmanager
def served_gateway(cwd: Path, **env: str) -> Iterator[str]:
    """`billing-gateway serve` on a free loopback port, on the SQLite file under `cwd`, with no
    demo organizations and `env` besides; its base URL once /health answers; stopped after."""
    (cwd / "no-demo.toml").write_text("organizations = []\n")
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port)],
        cwd=cwd,
        env={**clean, "DEMO_FILE": str(cwd / "no-demo.toml"), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def fresh_gateway(tmp_path: Path) -> Iterator[str]:
    """A sandbox gateway on an empty database: the catalog and no demo organizations."""
    with served_gateway(tmp_path) as url:
        yield url


@pytest.mark.slow  # starts a gateway of its own
def test_the_example_runs_against_a_fresh_served_gateway_rule_prv_1(
    tmp_path: Path, fresh_gateway: str
) -> None:
    made = run(tmp_path, "api-key", "create", "--platform", "--scope", "organizations:write")
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "BILLING_GATEWAY_PLATFORM_KEY": made.stdout.strip()}
    command = [sys.executable, str(SCRIPT), "--url", fresh_gateway]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "TRIALING on marketing plus" in first.stdout
    assert "peter@initech.test (OWNER), joanna@initech.test (BILLING_ADMIN)" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout.count("already done (a resend)") == 4

    no_key = subprocess.run(
        command, env={**env, "BILLING_GATEWAY_PLATFORM_KEY": ""}, capture_output=True, text=True
    )
    assert no_key.returncode == 2 and "BILLING_GATEWAY_PLATFORM_KEY" in no_key.stderr
