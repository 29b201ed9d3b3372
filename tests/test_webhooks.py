"""Processor webhooks at POST /webhooks/stripe: verified, applied once whatever the replays and
the order of delivery (CHG-5, PAY-3), here with the sandbox processor's signing secret."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from models import Invoice, Organization, Payment, ProcessedEvent
from payments import webhook_signature
from payments.sandbox import SANDBOX_WEBHOOK_SECRET
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
PLAN = "{ organization { subscription { items { plan { code } } } } }"


def _event(event_id: str, kind: str, charge_id: str) -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {"object": {"id": charge_id, "object": "payment_intent"}},
    }
    return json.dumps(body).encode()


async def _deliver(
    client: httpx.AsyncClient, payload: bytes, secret: str = SANDBOX_WEBHOOK_SECRET
) -> httpx.Response:
    headers = {
        "stripe-signature": webhook_signature.sign(payload, secret),
        "content-type": "application/json",
    }
    return await client.post("/webhooks/stripe", content=payload, headers=headers)


async def _waiting_upgrade(gql: GraphQLClient) -> tuple[Organization, str, Payment]:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=PERIOD,
        card="pm_card_authenticationRequired",
    )
    body = await gql(
        'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }',
        as_user=owner,
    )
    assert body["data"]["changePlan"]["__typename"] == "PaymentActionRequired"
    payment = await Payment.get(invoice__organization_id=organization.id)
    return organization, owner, payment


async def _plan(gql: GraphQLClient, owner: str) -> str:
    code: str = (await gql(PLAN, as_user=owner))["data"]["organization"]["subscription"]["items"][
        0
    ]["plan"]["code"]
    return code


async def test_a_bad_signature_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    _, owner, payment = await _waiting_upgrade(gql)
    payload = _event("evt_forged", "payment_intent.succeeded", payment.processor_charge_id or "")
    response = await _deliver(client, payload, secret="whsec_someone_else")
    assert response.status_code == 400
    unsigned = await client.post("/webhooks/stripe", content=payload)
    assert unsigned.status_code == 400
    assert await _plan(gql, owner) == "email-1000"
    assert not await ProcessedEvent.exists(id="evt_forged")


async def test_success_applies_the_change_once_whatever_the_replays(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    organization, owner, payment = await _waiting_upgrade(gql)
    payload = _event(
        f"evt_ok_{payment.id}", "payment_intent.succeeded", payment.processor_charge_id or ""
    )
    first = await _deliver(client, payload)
    assert first.json() == {"received": True, "outcome": "applied"}
    assert await _plan(gql, owner) == "email-1500"
    replay = await _deliver(client, payload)
    assert replay.json()["outcome"] == "duplicate"
    other = await _deliver(
        client,
        _event(
            f"evt_again_{payment.id}", "payment_intent.succeeded", payment.processor_charge_id or ""
        ),
    )
    assert other.json()["outcome"] == "already succeeded"
    late_failure = await _deliver(
        client,
        _event(
            f"evt_late_{payment.id}",
            "payment_intent.payment_failed",
            payment.processor_charge_id or "",
        ),
    )
    assert late_failure.json()["outcome"] == "already succeeded"  # out of order: the success stands
    invoice = await Invoice.get(organization_id=organization.id)
    assert invoice.status == "PAID" and invoice.pending_change is None
    assert await Payment.filter(invoice_id=invoice.id).count() == 1


async def test_failure_leaves_the_old_plan(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    # CHG-5, DUN-5
    organization, owner, payment = await _waiting_upgrade(gql)
    response = await _deliver(
        client,
        _event(
            f"evt_fail_{payment.id}",
            "payment_intent.payment_failed",
            payment.processor_charge_id or "",
        ),
    )
    assert response.json()["outcome"] == "applied"
    assert await _plan(gql, owner) == "email-1000"
    await organization.refresh_from_db()
    assert organization.automatic_charges_paused is True


async def test_an_event_before_the_gateway_knows_the_charge_is_asked_again(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # The webhook can arrive before the API call that made the charge has written it.
    payload = _event("evt_early", "payment_intent.succeeded", "pi_not_written_yet")
    response = await _deliver(client, payload)
    assert response.status_code == 503
    assert not await ProcessedEvent.exists(id="evt_early")
