"""A process killed between the charge and the database write: the charge is found again by its
metadata on a later tick and refunded once; a retry before that finds the first charge by its
idempotency key. Never charged twice, no payment lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings
from models import Invoice, Notification, OrphanCharge, Payment
from payments.sandbox import SandboxProcessor
from resolvers import plan_change
from resolvers.reconciliation import reconcile_charges
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with, state_of

CHANGE = 'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }'


@pytest_asyncio.fixture
async def sandbox() -> SandboxProcessor:
    return SandboxProcessor()


@pytest_asyncio.fixture
async def api(
    database: str, settings: Settings, clock: FixedClock, sandbox: SandboxProcessor
) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, clock, sandbox, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as http:
        yield GraphQLClient(http)


def _killed_after_charging(monkeypatch: pytest.MonkeyPatch) -> None:
    async def killed(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed before the write")

    monkeypatch.setattr(plan_change, "apply_result", killed)


async def _crashed_change(api: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
    )
    before = await state_of(organization)
    _killed_after_charging(monkeypatch)
    body = await api(CHANGE, as_user=owner)
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert await state_of(organization) == before  # the change's transaction rolled back
    monkeypatch.undo()
    return organization, owner


async def test_an_unrecorded_charge_is_found_and_refunded_once(
    api: GraphQLClient, sandbox: SandboxProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization, owner = await _crashed_change(api, monkeypatch)
    charges = await sandbox.recent_charges(datetime.now(UTC) - timedelta(hours=1))
    assert [c.amount for c in charges] == [1016]  # the processor took the money
    later = datetime.now(UTC) + timedelta(minutes=10)
    events = await reconcile_charges(sandbox, later)
    assert events == [f"refunded an unrecorded charge {charges[0].charge_id} of $10.16"]
    assert await reconcile_charges(sandbox, later) == []  # once
    orphan = await OrphanCharge.get(charge_id=charges[0].charge_id)
    assert orphan.organization_id == organization.id and orphan.refund_id.startswith("re_")
    assert (
        await Notification.filter(organization_id=organization.id, kind="PAYMENT_REFUNDED").count()
        == 1
    )
    # The customer tries again: a new charge (the first was refunded), applied once.
    assert (await api(CHANGE, as_user=owner))["data"]["changePlan"][
        "__typename"
    ] == "PlanChangeApplied"
    charges = await sandbox.recent_charges(datetime.now(UTC) - timedelta(hours=1))
    assert len(charges) == 2 and charges[1].idempotency_key.endswith(":after-refund")
    assert await Payment.filter(invoice__organization_id=organization.id).count() == 1


async def test_a_retry_before_the_tick_finds_the_first_charge(
    api: GraphQLClient, sandbox: SandboxProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization, owner = await _crashed_change(api, monkeypatch)
    assert (await api(CHANGE, as_user=owner))["data"]["changePlan"][
        "__typename"
    ] == "PlanChangeApplied"
    charges = await sandbox.recent_charges(datetime.now(UTC) - timedelta(hours=1))
    assert len(charges) == 1  # the retry's charge request found the first charge by its key

    payment = await Payment.get(invoice__organization_id=organization.id)
    assert payment.processor_charge_id == charges[0].charge_id
    assert await reconcile_charges(sandbox, datetime.now(UTC) + timedelta(minutes=10)) == []
    assert await Invoice.filter(organization_id=organization.id).count() == 1
