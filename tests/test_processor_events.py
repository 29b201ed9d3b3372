"""The processor's word (INV-5, CRN-1's refunds, EVT-1, NOT-1): refunds made in Stripe's dashboard
and disputes reach the gateway as signed Stripe webhooks at POST /webhooks/stripe, parsed by the
Stripe adapter (payments/stripe.py), and produce the same books as a refund through the API;
each applies once whatever the redeliveries. Here with the sandbox processor's signing secret;
tests/test_stripe_adapter.py makes a real refund in localstripe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe

from billing.disputes import DisputeStatus
from models import (
    CreditNote,
    Dispute,
    Invoice,
    Notification,
    Organization,
    Payment,
    ProcessedEvent,
    Refund,
    WebhookEvent,
)
from payments.sandbox import SANDBOX_WEBHOOK_SECRET
from payments.stripe import event_from_stripe_json
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient, trusted_request
from tests.factories import organization_with
from tests.webhook_receiver import platform_key, register

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
INVOICES = """{ organization { invoices(first: 5) { edges { node { number status disputed
  disputes { id status reason amount { amount currency } openedAt closedAt } } } } } }"""


def charge_refunded(
    event_id: str, charge_id: str, amount_refunded: int, refunds: list[tuple[str, int]]
) -> bytes:
    """Stripe's charge.refunded: the charge (whose payment intent the gateway knows), with the
    cumulative amount refunded and its refunds, newest first."""
    charge = {
        "id": f"ch_{charge_id}",
        "object": "charge",
        "payment_intent": charge_id,
        "amount": 1016,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded == 1016,
        "refunds": {
            "object": "list",
            "data": [
                {"id": rid, "object": "refund", "amount": amount, "status": "succeeded"}
                for rid, amount in refunds
            ],
        },
    }
    body = {"id": event_id, "object": "event", "type": "charge.refunded"}
    return json.dumps({**body, "data": {"object": charge}}).encode()


def dispute_event(
    event_id: str, kind: str, charge_id: str, dispute_id: str, status: str, amount: int = 1016
) -> bytes:
    dispute = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "usd",
        "charge": f"ch_{charge_id}",
        "payment_intent": charge_id,
        "reason": "fraudulent",
        "status": status,
        "created": int(SEEDED_AT.timestamp()),
    }
    body = {"id": event_id, "object": "event", "type": f"charge.dispute.{kind}"}
    return json.dumps({**body, "data": {"object": dispute}}).encode()


async def deliver(client: httpx.AsyncClient, payload: bytes) -> str:
    signed = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), SANDBOX_WEBHOOK_SECRET
    )
    response = await client.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": signed}
    )
    assert response.status_code == 200, response.text
    outcome: str = response.json()["outcome"]
    return outcome


async def _paid_upgrade(gql: GraphQLClient) -> tuple[Organization, str, Invoice, str]:
    """An upgrade charged $10.16 to the card: its invoice and the charge's id."""
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    body = await gql(
        'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }',
        as_user=owner,
    )
    assert body["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    invoice = await Invoice.get(organization_id=organization.id)
    payment = await Payment.get(invoice_id=invoice.id)
    assert (invoice.status, payment.amount) == ("PAID", 1016)
    return organization, owner, invoice, payment.processor_charge_id or ""


async def _refunds(invoice: Invoice) -> list[tuple[int, str]]:
    rows = await Refund.filter(invoice_id=invoice.id).order_by("created_at", "amount")
    return [(r.amount, r.reason) for r in rows]


async def _events(organization: Organization) -> list[dict[str, Any]]:
    rows = await WebhookEvent.filter(organization_id=organization.id).order_by("created_at")
    return [json.loads(r.body) for r in rows]


async def _notices(organization: Organization) -> list[tuple[str, str]]:
    rows = await Notification.filter(organization_id=organization.id).order_by("created_at")
    return [(r.kind, r.message) for r in rows]


async def test_a_refund_made_in_stripe_is_recorded_once_rule_inv_5_crn_1(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, _, invoice, charge = await _paid_upgrade(gql)
    # $3.00 refunded in Stripe's dashboard.
    first = charge_refunded("evt_r1", charge, 300, [("re_dash_1", 300)])
    assert await deliver(client, first) == "refund recorded: $3.00"
    await invoice.refresh_from_db()
    assert invoice.status == "PARTIALLY_REFUNDED"
    assert await _refunds(invoice) == [(300, "refunded at the processor")]
    # Redelivered (the same event), or told again by another event: nothing twice.
    assert await deliver(client, first) == "duplicate"
    again = charge_refunded("evt_r1_again", charge, 300, [("re_dash_1", 300)])
    assert await deliver(client, again) == "already recorded"
    # $2.00 through the API; its own webhook arrives afterwards and records nothing.
    key = await create_api_key(organization.slug, "desk", ["billing:refund"], datetime.now(UTC))
    asked = await client.post(
        "/graphql",
        json=trusted_request(
            "RefundInvoice", {"invoiceId": str(invoice.id), "amount": 200, "reason": "Goodwill"}
        ),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert asked.json()["data"]["refundInvoice"]["invoice"]["status"] == "PARTIALLY_REFUNDED"
    api_refund = await Refund.get(invoice_id=invoice.id, amount=200)
    after_api = charge_refunded(
        "evt_r2", charge, 500, [(api_refund.processor_refund_id, 200), ("re_dash_1", 300)]
    )
    assert await deliver(client, after_api) == "already recorded"
    # The rest ($5.16) in the dashboard: the invoice is REFUNDED, as refundInvoice would leave it.
    rest = charge_refunded(
        "evt_r3",
        charge,
        1016,
        [("re_dash_2", 516), (api_refund.processor_refund_id, 200), ("re_dash_1", 300)],
    )
    assert await deliver(client, rest) == "refund recorded: $5.16"
    await invoice.refresh_from_db()
    assert invoice.status == "REFUNDED"
    assert sorted(amount for amount, _ in await _refunds(invoice)) == [200, 300, 516]
    # A charge.refunded without its refunds listed (newer API versions): the cumulative
    # amount says everything is recorded.
    bare = charge_refunded("evt_r4", charge, 1016, [])
    assert await deliver(client, bare) == "already recorded"
    assert sum(amount for amount, _ in await _refunds(invoice)) == 1016


async def test_a_cumulative_amount_without_its_refunds_is_recorded_once_rule_inv_5(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    _, _, invoice, charge = await _paid_upgrade(gql)
    assert await deliver(client, charge_refunded("evt_c1", charge, 400, [])) == (
        "refund recorded: $4.00"
    )
    # The same refund listed later by its id: the cumulative $4.00 is already counted.
    listed = charge_refunded("evt_c2", charge, 400, [("re_later", 400)])
    assert await deliver(client, listed) == "already recorded"
    assert await _refunds(invoice) == [(400, "refunded at the processor")]
    await invoice.refresh_from_db()
    assert invoice.status == "PARTIALLY_REFUNDED"


async def test_events_about_unknown_charges_are_acknowledged_and_ignored_rule_inv_5(
    client: httpx.AsyncClient,
) -> None:
    # The processor account may serve other systems: never a 500, never a redelivery loop.
    refunded = charge_refunded("evt_unknown_r", "pi_elsewhere", 100, [("re_x", 100)])
    assert await deliver(client, refunded) == "ignored: unknown charge"
    disputed = dispute_event("evt_unknown_d", "created", "pi_elsewhere", "dp_x", "needs_response")
    assert await deliver(client, disputed) == "ignored: unknown charge"
    assert not await Dispute.exists(processor_dispute_id="dp_x")


async def test_a_lost_dispute_walk_rule_inv_5_evt_1_not_1(
    client: httpx.AsyncClient, gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    await register(webhook_client, key, "http://127.0.0.1:9/hooks")
    organization, owner, invoice, charge = await _paid_upgrade(gql)
    created = dispute_event("evt_d1", "created", charge, "dp_lost", "needs_response")
    assert await deliver(client, created) == "dispute recorded"
    listed = (await gql(INVOICES, as_user=owner))["data"]["organization"]["invoices"]["edges"]
    assert listed[0]["node"]["status"] == "PAID" and listed[0]["node"]["disputed"] is True
    assert listed[0]["node"]["disputes"] == [
        {
            "id": "dp_lost",
            "status": "NEEDS_RESPONSE",
            "reason": "fraudulent",
            "amount": {"amount": 1016, "currency": "USD"},
            "openedAt": SEEDED_AT.isoformat(),
            "closedAt": None,
        }
    ]
    assert await _notices(organization) == [
        (
            "DISPUTE_OPENED",
            f"The payment of invoice {invoice.number} is disputed for $10.16 (fraudulent). "
            "Answer the dispute in the payment processor's dashboard.",
        )
    ]
    updated = dispute_event("evt_d2", "updated", charge, "dp_lost", "under_review")
    assert await deliver(client, updated) == "dispute under_review"
    closed = dispute_event("evt_d3", "closed", charge, "dp_lost", "lost")
    assert await deliver(client, closed) == "dispute lost: $10.16 taken"
    await invoice.refresh_from_db()
    assert invoice.status == "REFUNDED"
    assert await _refunds(invoice) == [(1016, "dispute lost")]
    # Redelivered, or told again under another event id: nothing twice.
    assert await deliver(client, closed) == "duplicate"
    again = dispute_event("evt_d3_again", "closed", charge, "dp_lost", "lost")
    assert await deliver(client, again) == "already recorded"
    assert await _refunds(invoice) == [(1016, "dispute lost")]
    node = (await gql(INVOICES, as_user=owner))["data"]["organization"]["invoices"]["edges"][0][
        "node"
    ]
    assert (node["status"], node["disputed"]) == ("REFUNDED", False)
    assert node["disputes"][0]["status"] == "LOST"
    assert node["disputes"][0]["closedAt"] == SEEDED_AT.isoformat()
    assert [kind for kind, _ in await _notices(organization)] == [
        "DISPUTE_OPENED",
        "DISPUTE_CLOSED",
    ]
    assert (await _notices(organization))[1][1] == (
        f"The dispute on invoice {invoice.number} was lost: $10.16 went back to the cardholder."
    )
    events = [e for e in await _events(organization) if e["type"].startswith("invoice.")]
    assert [e["type"] for e in events[-3:]] == [
        "invoice.dispute_created",
        "invoice.refunded",
        "invoice.dispute_closed",
    ]
    opened, refunded, closed_event = (e["data"] for e in events[-3:])
    assert (opened["dispute_id"], opened["dispute_amount"], opened["dispute_status"]) == (
        "dp_lost",
        1016,
        "NEEDS_RESPONSE",
    )
    assert (refunded["refund_amount"], refunded["refund_reason"]) == (1016, "dispute lost")
    assert (closed_event["dispute_status"], closed_event["amount_taken"]) == ("LOST", 1016)
    assert closed_event["invoice"]["status"] == "REFUNDED"


async def test_a_won_dispute_changes_nothing_of_the_money_rule_inv_5(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner, invoice, charge = await _paid_upgrade(gql)
    created = dispute_event("evt_w1", "created", charge, "dp_won", "warning_needs_response")
    assert await deliver(client, created) == "dispute recorded"
    closed = dispute_event("evt_w2", "closed", charge, "dp_won", "won")
    assert await deliver(client, closed) == "dispute won: $0.00 taken"
    await invoice.refresh_from_db()
    assert invoice.status == "PAID"
    assert await _refunds(invoice) == []
    node = (await gql(INVOICES, as_user=owner))["data"]["organization"]["invoices"]["edges"][0][
        "node"
    ]
    assert (node["disputed"], node["disputes"][0]["status"]) == (False, "WON")
    assert (await _notices(organization))[-1][1] == (
        f"The dispute on invoice {invoice.number} was won: the payment stands."
    )
    # A late "lost" for a dispute closed as won changes nothing.
    late = dispute_event("evt_w3", "closed", charge, "dp_won", "lost")
    assert await deliver(client, late) == "already recorded"
    assert await _refunds(invoice) == []


async def test_a_partial_refund_in_stripe_then_a_lost_dispute_takes_what_is_left_rule_inv_5(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    _, _, invoice, charge = await _paid_upgrade(gql)
    refunded = charge_refunded("evt_p1", charge, 300, [("re_part", 300)])
    assert await deliver(client, refunded) == "refund recorded: $3.00"
    # The cardholder disputes the whole $10.16 anyway and wins: only $7.16 is left to take.
    assert (
        await deliver(client, dispute_event("evt_p2", "created", charge, "dp_p", "needs_response"))
        == "dispute recorded"
    )
    lost = dispute_event("evt_p3", "closed", charge, "dp_p", "lost")
    assert await deliver(client, lost) == "dispute lost: $7.16 taken"
    await invoice.refresh_from_db()
    assert invoice.status == "REFUNDED"
    assert await _refunds(invoice) == [(300, "refunded at the processor"), (716, "dispute lost")]
    # The charge's refunds told again: the dispute's money is not a refund Stripe counts.
    assert await deliver(client, charge_refunded("evt_p4", charge, 300, [("re_part", 300)])) == (
        "already recorded"
    )
    assert sum(amount for amount, _ in await _refunds(invoice)) == 1016


async def test_a_dispute_closed_before_its_created_event_arrives_rule_inv_5(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, _, invoice, charge = await _paid_upgrade(gql)
    partial = dispute_event("evt_o1", "closed", charge, "dp_order", "lost", amount=400)
    assert await deliver(client, partial) == "dispute recorded; dispute lost: $4.00 taken"
    late_created = dispute_event("evt_o2", "created", charge, "dp_order", "needs_response", 400)
    assert await deliver(client, late_created) == "already recorded"
    await invoice.refresh_from_db()
    assert invoice.status == "PARTIALLY_REFUNDED"
    assert await _refunds(invoice) == [(400, "dispute lost")]
    assert [kind for kind, _ in await _notices(organization)] == [
        "DISPUTE_OPENED",
        "DISPUTE_CLOSED",
    ]


@pytest.mark.parametrize(
    ("stripe_status", "ours"),
    [
        ("warning_needs_response", DisputeStatus.NEEDS_RESPONSE),
        ("needs_response", DisputeStatus.NEEDS_RESPONSE),
        ("warning_under_review", DisputeStatus.UNDER_REVIEW),
        ("under_review", DisputeStatus.UNDER_REVIEW),
        ("won", DisputeStatus.WON),
        ("lost", DisputeStatus.LOST),
        ("warning_closed", DisputeStatus.CLOSED),
        ("prevented", DisputeStatus.CLOSED),
    ],
)
def test_the_adapter_reads_stripe_dispute_statuses_rule_inv_5(
    stripe_status: str, ours: DisputeStatus
) -> None:
    parsed = event_from_stripe_json(
        dispute_event("evt_s", "updated", "pi_1", "dp_1", stripe_status)
    )
    assert parsed.type == "dispute_updated" and parsed.charge_id == "pi_1"
    assert parsed.dispute is not None
    assert (parsed.dispute.status, parsed.dispute.amount, parsed.dispute.currency) == (
        ours,
        1016,
        "USD",
    )


def test_the_adapter_reads_a_charge_without_a_payment_intent_by_its_own_id() -> None:
    body = json.loads(charge_refunded("evt_ch", "pi_2", 300, [("re_1", 300), ("re_2", 50)]))
    charge = body["data"]["object"]
    del charge["payment_intent"]
    charge["refunds"]["data"][1]["status"] = "failed"  # not in amount_refunded
    parsed = event_from_stripe_json(json.dumps(body).encode())
    assert (parsed.charge_id, parsed.amount_refunded) == ("ch_pi_2", 300)
    assert [(r.id, r.amount) for r in parsed.refunds] == [("re_1", 300)]


@pytest.mark.parametrize(
    "broken",
    [
        {"amount_refunded": "300"},  # not an integer
        {"amount_refunded": -1},
        {"refunds": {"data": [{"id": "re_1", "amount": 1.5}]}},
        {"refunds": {"data": [{"id": "re_" + "x" * 300, "amount": 1}]}},  # not a Stripe id
    ],
)
async def test_a_malformed_charge_refunded_is_refused_and_changes_nothing_rule_inv_5(
    client: httpx.AsyncClient, broken: dict[str, Any]
) -> None:
    body = json.loads(charge_refunded("evt_broken", "pi_3", 300, [("re_1", 300)]))
    body["data"]["object"].update(broken)
    payload = json.dumps(body).encode()
    signed = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), SANDBOX_WEBHOOK_SECRET
    )
    response = await client.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": signed}
    )
    assert response.status_code == 400
    assert "is not a Stripe" in response.json()["error"]
    assert not await ProcessedEvent.exists(id="evt_broken")


async def _credit_note_of(invoice: Invoice) -> tuple[Any, ...]:
    """What a refund's credit note says, but for its number and reason (and the invoice's number
    its lines name)."""
    note = await CreditNote.get(invoice_id=invoice.id).prefetch_related("lines")
    lines = [
        (
            line.description.replace(invoice.number, "<invoice>"),
            line.amount,
            line.tax,
            line.tax_rate,
        )
        for line in note.lines
    ]
    figures = (note.currency, note.subtotal, note.tax_total, note.total, note.tax_summary)
    return (*figures, note.destination, lines)


async def test_a_refund_made_in_stripe_issues_the_credit_note_the_api_would_rule_crn_1(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # Two organizations, the same $10.16 upgrade; $5.00 refunded through the API for one, in
    # Stripe's dashboard for the other: the same invoice status and the same credit note.
    through_api, _, api_invoice, _ = await _paid_upgrade(gql)
    key = await create_api_key(through_api.slug, "desk", ["billing:refund"], datetime.now(UTC))
    asked = await client.post(
        "/graphql",
        json=trusted_request(
            "RefundInvoice", {"invoiceId": str(api_invoice.id), "amount": 500, "reason": "Goodwill"}
        ),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert asked.json()["data"]["refundInvoice"]["invoice"]["status"] == "PARTIALLY_REFUNDED"
    _, _, stripe_invoice, charge = await _paid_upgrade(gql)
    made_in_stripe = charge_refunded("evt_cn_1", charge, 500, [("re_dash_cn", 500)])
    assert await deliver(client, made_in_stripe) == "refund recorded: $5.00"
    await stripe_invoice.refresh_from_db()
    assert stripe_invoice.status == "PARTIALLY_REFUNDED"
    expected = await _credit_note_of(api_invoice)
    assert expected[1:4] == (500, 0, 500) and expected[5] == "REFUNDED_TO_CARD"
    assert await _credit_note_of(stripe_invoice) == expected
    note = await CreditNote.get(invoice_id=stripe_invoice.id)
    assert note.processor_refund_id == "re_dash_cn"
