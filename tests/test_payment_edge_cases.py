"""Payments that wait, fail late or arrive late (CHG-5, DUN-2, DUN-4), one organization's
processor trouble on the billing clock, and charges that are not the gateway's own."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from models import Invoice, Payment, Subscription
from payments.port import ChargeRecord, ChargeRequest, ChargeResult, ProcessorUnavailableError
from payments.sandbox import SANDBOX_WEBHOOK_SECRET, SandboxProcessor
from resolvers import billing_clock, invoicing
from resolvers.billing_clock import run_due_work
from resolvers.reconciliation import reconcile_charges
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

RUNNING = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
ENDING = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
UPGRADE = 'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename ... on UserError { code } } }'


async def _deliver(
    client: httpx.AsyncClient, event_id: str, kind: str, charge_id: str, code: str | None = None
) -> str:
    intent: dict[str, object] = {"id": charge_id}
    if code:
        intent["last_payment_error"] = {"code": code}
    payload = json.dumps({"id": event_id, "type": kind, "data": {"object": intent}}).encode()
    response = await client.post(
        "/webhooks/stripe",
        content=payload,
        headers={
            "stripe-signature": stripe.WebhookSignature.generate_signature_header(
                payload.decode(), SANDBOX_WEBHOOK_SECRET
            )
        },
    )
    outcome: str = response.json()["outcome"]
    return outcome


async def test_an_abandoned_authentication_voids_the_invoice_and_frees_the_plan(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=RUNNING,
        card="pm_card_authenticationRequired",
    )
    assert (await gql(UPGRADE, as_user=owner))["data"]["changePlan"][
        "__typename"
    ] == "PaymentActionRequired"
    payment = await Payment.get(invoice__organization_id=organization.id)
    assert (
        await _deliver(
            client,
            f"evt_wait_{payment.id}",
            "payment_intent.payment_failed",
            payment.processor_charge_id or "",
            "authentication_required",
        )
        == "waiting for the customer"
    )
    assert (
        await _deliver(
            client,
            f"evt_fail_{payment.id}",
            "payment_intent.payment_failed",
            payment.processor_charge_id or "",
            "card_declined",
        )
        == "applied"
    )
    invoice = await Invoice.get(organization_id=organization.id)
    assert invoice.status == "VOID"  # nothing is owed for a change that was not made
    await gql(
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
        as_user=owner,
    )
    assert (await gql(UPGRADE, as_user=owner))["data"]["changePlan"][
        "__typename"
    ] == "PlanChangeApplied"
    # The customer authenticates the old payment after all: it is refunded, not kept.
    assert (
        await _deliver(
            client,
            f"evt_late_{payment.id}",
            "payment_intent.succeeded",
            payment.processor_charge_id or "",
        )
        == "refunded: the invoice was no longer payable"
    )


async def test_a_waiting_renewal_cannot_be_paid_twice(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=ENDING,
        card="pm_card_authenticationRequired",
    )
    events = (await gql("mutation { advanceTestClock(days: 1) { events } }", as_user=owner))[
        "data"
    ]["advanceTestClock"]["events"]
    assert any("waiting for the customer" in e for e in events)
    invoice = await Invoice.get(organization_id=organization.id)
    pay = "mutation ($id: ID!) { payInvoice(invoiceId: $id) { __typename ... on UserError { code } } }"
    assert (await gql(pay, {"id": str(invoice.id)}, as_user=owner))["data"]["payInvoice"][
        "code"
    ] == "PAYMENT_WAITING"
    payment = await Payment.get(invoice_id=invoice.id)
    assert (
        await _deliver(
            client,
            f"evt_ok_{payment.id}",
            "payment_intent.succeeded",
            payment.processor_charge_id or "",
        )
        == "applied"
    )
    assert (await Invoice.get(id=invoice.id)).status == "PAID"
    status = "{ organization { subscription { status } } }"
    assert (await gql(status, as_user=owner))["data"]["organization"]["subscription"][
        "status"
    ] == "ACTIVE"  # DUN-4


async def test_a_payment_for_a_voided_invoice_is_refunded(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1)),
        card="pm_card_authenticationRequired",
    )
    preview = (
        await gql(
            'query { previewPlanChange(input: {product: "email", plan: "email-1500"}) { amountDueNow { amount } } }',
            as_user=owner,
        )
    )["data"]["previewPlanChange"]
    due = preview["amountDueNow"]["amount"]
    body = await gql(
        f'mutation {{ changePlan(input: {{product: "email", plan: "email-1500"}}, confirmAmountDue: {due}) {{ __typename }} }}',
        as_user=owner,
    )
    assert body["data"]["changePlan"]["__typename"] == "PaymentActionRequired"
    change_invoice = await Invoice.get(organization_id=organization.id)
    change_payment = await Payment.get(invoice_id=change_invoice.id)
    await gql("mutation { advanceTestClock(days: 1) { events } }", as_user=owner)  # the period ends
    assert (await Invoice.get(id=change_invoice.id)).status == "VOID"
    outcome = await _deliver(
        client,
        f"evt_stale_{change_payment.id}",
        "payment_intent.succeeded",
        change_payment.processor_charge_id or "",
    )
    assert outcome == "refunded: the invoice was no longer payable"
    plan = "{ organization { subscription { items { plan { code } } } } }"
    assert (await gql(plan, as_user=owner))["data"]["organization"]["subscription"]["items"][0][
        "plan"
    ]["code"] == "email-1000"


class _DownForOne(SandboxProcessor):
    """The processor fails for one card only."""

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.payment_method_id == "pm_card_mastercard":
            raise ProcessorUnavailableError(
                "The payment processor is unavailable", reason="PROCESSOR_UNAVAILABLE"
            )
        return await super().charge(request)


@pytest.mark.usefixtures("database")
async def test_one_organizations_trouble_does_not_stop_the_clock() -> None:
    troubled, _ = await organization_with(
        [{"product": "store", "plan": "venture"}], period=ENDING, card="pm_card_mastercard"
    )
    fine, _ = await organization_with(
        [{"product": "store", "plan": "venture"}], period=ENDING, card="pm_card_visa"
    )
    processor = _DownForOne()
    events = await run_due_work(
        SEEDED_AT + timedelta(days=1), processor, organization_ids=[troubled.id, fine.id]
    )
    assert f"{troubled.id}: postponed (The payment processor is unavailable)" in events
    assert await Invoice.filter(organization_id=fine.id, status="PAID").count() == 1
    assert (
        await Invoice.filter(organization_id=troubled.id).count() == 0
    )  # rolled back, tried again later


@pytest.mark.usefixtures("database")
async def test_dun1_an_unexpected_error_in_one_organization_does_not_stop_the_renewals(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """rule DUN-1: every due renewal is issued even when another organization's work fails."""
    broken, _ = await organization_with([{"product": "store", "plan": "venture"}], period=ENDING)
    fine, _ = await organization_with([{"product": "store", "plan": "venture"}], period=ENDING)
    collect = invoicing.collect

    async def collect_failing_for_broken(invoice: Invoice, *args: Any, **kwargs: Any) -> Any:
        if invoice.organization_id == broken.id:
            raise RuntimeError("a bug in the broken organization's renewal")
        return await collect(invoice, *args, **kwargs)

    monkeypatch.setattr(billing_clock, "collect", collect_failing_for_broken)
    with caplog.at_level(logging.ERROR, logger="billing_gateway.clock"):
        events = await run_due_work(
            SEEDED_AT + timedelta(days=1), SandboxProcessor(), organization_ids=[broken.id, fine.id]
        )
    assert f"{broken.id}: failed (unexpected error, logged)" in events
    assert await Invoice.filter(organization_id=fine.id, status="PAID").count() == 1
    # The broken organization's renewal rolled back whole: no invoice, no number used, same period.
    assert await Invoice.filter(organization_id=broken.id).count() == 0
    await broken.refresh_from_db()
    assert broken.invoice_sequence == 0
    subscription = await Subscription.get(organization_id=broken.id)
    assert subscription.current_period_end == ENDING[1]
    [record] = [r for r in caplog.records if r.name == "billing_gateway.clock"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert str(broken.id) in record.getMessage()


@pytest.mark.usefixtures("database")
async def test_charges_that_are_not_the_gateways_are_left_alone() -> None:
    class Shared(SandboxProcessor):
        async def recent_charges(self, since: datetime) -> list[ChargeRecord]:
            return [
                ChargeRecord(
                    "pi_other_system",
                    "",
                    "",
                    5000,
                    "USD",
                    True,
                    datetime.now(UTC) - timedelta(hours=1),
                )
            ]

    assert await reconcile_charges(Shared(), datetime.now(UTC)) == []
