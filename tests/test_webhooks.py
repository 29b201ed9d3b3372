"""Processor webhooks at POST /webhooks/stripe: verified, applied once whatever the replays and
the order of delivery (CHG-5, PAY-3), here with the sandbox processor's signing secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import httpx
import pytest
import stripe

from models import Invoice, Organization, Payment, ProcessedEvent
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
        "stripe-signature": stripe.WebhookSignature.generate_signature_header(
            payload.decode(), secret
        ),
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


def _signed(payload: bytes, secret: str, timestamp: int) -> str:
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp
    )
    return header.split("v1=", 1)[1]


async def _deliver_with(
    client: httpx.AsyncClient, payload: bytes, signature: str
) -> tuple[int, str]:
    headers = {"stripe-signature": signature, "content-type": "application/json"}
    response = await client.post("/webhooks/stripe", content=payload, headers=headers)
    body = response.json()
    return response.status_code, body.get("error") or body.get("outcome")


async def test_two_v1_signatures_during_a_secret_rotation_verify(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # PAY-3: while a signing secret rotates, Stripe signs with the old and the new one.
    _, owner, payment = await _waiting_upgrade(gql)
    payload = _event(
        f"evt_rotated_{payment.id}", "payment_intent.succeeded", payment.processor_charge_id or ""
    )
    now = int(time.time())
    old, current = (
        _signed(payload, "whsec_retired", now),
        _signed(payload, SANDBOX_WEBHOOK_SECRET, now),
    )
    assert await _deliver_with(client, payload, f"t={now},v1={current},v1={old}") == (
        200,
        "applied",
    )
    assert await _plan(gql, owner) == "email-1500"


@pytest.mark.parametrize(
    ("case", "refusal"),
    [
        ("wrong secret", "No signatures found matching the expected signature"),
        ("stale timestamp", "Timestamp outside the tolerance zone"),
        ("future timestamp", "seconds in the future; check the sender's clock"),
        ("no signature", "No Stripe-Signature header value was provided"),
    ],
)
async def test_signatures_that_do_not_verify_are_refused_with_a_reason(
    client: httpx.AsyncClient, gql: GraphQLClient, case: str, refusal: str
) -> None:
    _, owner, payment = await _waiting_upgrade(gql)
    event_id = f"evt_{case.replace(' ', '_')}_{payment.id}"
    payload = _event(event_id, "payment_intent.succeeded", payment.processor_charge_id or "")
    now = int(time.time())
    signed_at = {"stale timestamp": now - 301, "future timestamp": now + 3600}.get(case, now)
    secret = "whsec_someone_else" if case == "wrong secret" else SANDBOX_WEBHOOK_SECRET
    signature = (
        "" if case == "no signature" else f"t={signed_at},v1={_signed(payload, secret, signed_at)}"
    )
    status, error = await _deliver_with(client, payload, signature)
    assert status == 400 and refusal in error
    assert await _plan(gql, owner) == "email-1000"
    assert not await ProcessedEvent.exists(id=event_id)


async def test_a_body_that_is_not_utf8_is_refused_with_a_reason(client: httpx.AsyncClient) -> None:
    payload = b'{"id": "evt_latin1", "type": "caf\xe9"}'
    # Signed over its bytes as a sender that does not speak UTF-8 would.
    now = int(time.time())
    digest = hmac.new(
        SANDBOX_WEBHOOK_SECRET.encode(), f"{now}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    status, error = await _deliver_with(client, payload, f"t={now},v1={digest}")
    assert (status, error) == (
        400,
        "The body is not UTF-8 text, so it is not an event from Stripe.",
    )
    assert not await ProcessedEvent.exists(id="evt_latin1")


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
