"""The Stripe adapter with the real `stripe` client against localstripe, a stateful fake Stripe
server started here on a loopback port (PAY-1 to PAY-3, CHG-5)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import stripe

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings
from models import Invoice, Payment, PaymentMethod, Refund
from payments.port import (
    ChargeRequest,
    ChargeStatus,
    PaymentMethodError,
    ProcessorUnavailableError,
    WebhookSignatureError,
)
from payments.stripe import StripeProcessor
from resolvers.api_keys import create_api_key
from tests.conftest import SEEDED_AT, GraphQLClient, free_port, trusted_request
from tests.factories import organization_with

# Starts processes or servers of its own: left out of the fast loop (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow

API_KEY = "sk_test_gateway"
WEBHOOK_SECRET = "whsec_gateway_test"
CARDS = {
    "visa": "4242424242424242",
    "declined_on_attach": "4000000000000002",
    "declined_on_charge": "4000000000000341",
    "three_d_secure": "4000002760003184",
}


def start_localstripe(log: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    port = free_port()
    # --from-scratch: localstripe otherwise reloads what earlier runs left on disk.
    command = [
        str(Path(sys.executable).parent / "localstripe"),
        "--port",
        str(port),
        "--from-scratch",
    ]
    process = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.terminate()
    process.wait(timeout=10)
    return None


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    for _ in range(3):  # a free port can be taken again before localstripe binds it
        started = start_localstripe(log)
        if started is not None:
            break
    else:
        pytest.fail(f"localstripe did not start: {log.read_text(errors='replace')[-2000:]}")
    process, port = started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def processor(localstripe: str) -> StripeProcessor:
    return StripeProcessor(API_KEY, WEBHOOK_SECRET, localstripe)


def _card(localstripe: str, number: str, exp_year: int = 2034) -> str:
    """A payment method made as the browser's card form would (card numbers never reach the gateway)."""
    client = stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": exp_year, "cvc": "123"},
        }
    )
    return str(method.id)


async def test_card_added_charged_and_refunded(
    processor: StripeProcessor, localstripe: str
) -> None:
    customer = await processor.create_customer("org-1", "Acme")
    card = await processor.attach_payment_method(customer, _card(localstripe, CARDS["visa"]))
    assert (card.brand, card.last4, card.exp_year) == ("visa", "4242", 2034)
    result = await processor.charge(
        ChargeRequest(
            card.payment_method_id, 1016, "USD", "change:1", "Invoice ACME-00005", customer
        )
    )
    assert result.status is ChargeStatus.SUCCEEDED and result.charge_id.startswith("pi_")
    refund = await processor.refund(result.charge_id, 500, "refund:1")
    assert refund.amount == 500
    setup = await processor.create_setup_intent(customer)
    assert setup.client_secret.startswith(setup.id)


async def test_declines_and_authentication(processor: StripeProcessor, localstripe: str) -> None:
    # PAY-3: declined when the card is added, declined when charged, 3-D Secure required.
    customer = await processor.create_customer("org-2", "Globex")
    with pytest.raises(PaymentMethodError) as refused:
        await processor.attach_payment_method(
            customer, _card(localstripe, CARDS["declined_on_attach"])
        )
    assert (refused.value.user_code, refused.value.message) == (
        "CARD_DECLINED",
        "The card was declined by the bank.",
    )
    declining = await processor.attach_payment_method(
        customer, _card(localstripe, CARDS["declined_on_charge"])
    )
    failed = await processor.charge(
        ChargeRequest(declining.payment_method_id, 2000, "USD", "k2", "Invoice", customer)
    )
    assert (failed.status, failed.failure_code) == (ChargeStatus.FAILED, "card_declined")
    secure = await processor.attach_payment_method(
        customer, _card(localstripe, CARDS["three_d_secure"])
    )
    waiting = await processor.charge(
        ChargeRequest(secure.payment_method_id, 2000, "USD", "k3", "Invoice", customer)
    )
    assert waiting.status is ChargeStatus.REQUIRES_ACTION and waiting.client_secret


async def test_an_unknown_payment_method_and_an_unreachable_processor() -> None:
    closed = StripeProcessor(API_KEY, WEBHOOK_SECRET, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProcessorUnavailableError) as unavailable:
        await closed.create_customer("org-3", "Initech")
    assert "unavailable: nothing was charged" in unavailable.value.message


async def test_webhook_signatures(processor: StripeProcessor) -> None:
    payload = (
        b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}'
    )
    event = processor.parse_webhook(
        payload, stripe.WebhookSignature.generate_signature_header(payload.decode(), WEBHOOK_SECRET)
    )
    assert (event.id, event.type, event.charge_id) == ("evt_1", "payment_succeeded", "pi_1")
    with pytest.raises(WebhookSignatureError):
        processor.parse_webhook(
            payload,
            stripe.WebhookSignature.generate_signature_header(payload.decode(), "whsec_other"),
        )


@pytest_asyncio.fixture
async def stripe_gql(
    database: str, settings: Settings, clock: FixedClock, processor: StripeProcessor
) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, clock, processor, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as http:
        yield GraphQLClient(http)


async def test_the_same_flows_through_the_api(stripe_gql: GraphQLClient, localstripe: str) -> None:
    # An upgrade charged through Stripe; then a 3-D Secure card: the plan waits (CHG-5).
    period = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=period, card=None
    )
    replace = """mutation ($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) {
      __typename ... on PaymentMethodReplaced { paymentMethod { brand last4 } } ... on UserError { code message } } }"""
    declined = await stripe_gql(
        replace, {"pm": _card(localstripe, CARDS["declined_on_attach"])}, as_user=owner
    )
    assert declined["data"]["replacePaymentMethod"]["code"] == "CARD_DECLINED"
    added = await stripe_gql(replace, {"pm": _card(localstripe, CARDS["visa"])}, as_user=owner)
    assert added["data"]["replacePaymentMethod"]["paymentMethod"] == {
        "brand": "visa",
        "last4": "4242",
    }
    change = """mutation ($plan: String!, $due: Int!) { changePlan(input: {product: "email", plan: $plan}, confirmAmountDue: $due) {
      __typename ... on PlanChangeApplied { invoice { status amountDue { amount } } } ... on PaymentActionRequired { clientSecret } } }"""
    applied = (await stripe_gql(change, {"plan": "email-1500", "due": 1016}, as_user=owner))[
        "data"
    ]["changePlan"]
    assert applied == {
        "__typename": "PlanChangeApplied",
        "invoice": {"status": "PAID", "amountDue": {"amount": 1016}},
    }
    await stripe_gql(replace, {"pm": _card(localstripe, CARDS["three_d_secure"])}, as_user=owner)
    preview = 'query { previewPlanChange(input: {product: "email", plan: "email-2500"}) { amountDueNow { amount } } }'
    due = (await stripe_gql(preview, as_user=owner))["data"]["previewPlanChange"]["amountDueNow"][
        "amount"
    ]
    assert due == -3048 + 4065  # 21 of 31 days: -$45.00 x 21/31, +$60.00 x 21/31
    waiting = (await stripe_gql(change, {"plan": "email-2500", "due": due}, as_user=owner))["data"][
        "changePlan"
    ]
    assert waiting["__typename"] == "PaymentActionRequired" and waiting["clientSecret"]
    plan = "{ organization { subscription { items { plan { code } } } } }"
    assert (await stripe_gql(plan, as_user=owner))["data"]["organization"]["subscription"]["items"][
        0
    ]["plan"]["code"] == "email-1500"
    # The customer authenticates; Stripe says so by webhook; the change is applied, once.
    waiting_payment = await Payment.get(
        status="REQUIRES_ACTION", invoice__organization_id=organization.id
    )
    event = json.dumps(
        {
            "id": f"evt_{waiting_payment.id}",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": waiting_payment.processor_charge_id}},
        }
    ).encode()
    outcomes = []
    for _ in range(2):
        response = await stripe_gql.http.post(
            "/webhooks/stripe",
            content=event,
            headers={
                "stripe-signature": stripe.WebhookSignature.generate_signature_header(
                    event.decode(), WEBHOOK_SECRET
                )
            },
        )
        outcomes.append(response.json()["outcome"])
    assert outcomes == ["applied", "duplicate"]
    assert (await stripe_gql(plan, as_user=owner))["data"]["organization"]["subscription"]["items"][
        0
    ]["plan"]["code"] == "email-2500"


async def test_dunning_through_stripe(stripe_gql: GraphQLClient, localstripe: str) -> None:
    # DUN-1 to DUN-4 with real Stripe calls: a renewal declined by the bank, PENDING_PAYMENT,
    # FROZEN after five days, a new card, pay now, ACTIVE.
    ending = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}], period=ending, card=None
    )
    replace = (
        "mutation ($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) { __typename } }"
    )
    await stripe_gql(
        replace, {"pm": _card(localstripe, CARDS["declined_on_charge"])}, as_user=owner
    )
    advance = "mutation ($days: Int!) { advanceTestClock(days: $days) { events } }"
    events = (await stripe_gql(advance, {"days": 1}, as_user=owner))["data"]["advanceTestClock"][
        "events"
    ]
    assert any("unpaid (card_declined)" in e for e in events)
    events = (await stripe_gql(advance, {"days": 5}, as_user=owner))["data"]["advanceTestClock"][
        "events"
    ]
    assert any("frozen" in e for e in events)
    # DUN-6: the new card is charged the overdue renewal at once; DUN-4: ACTIVE again.
    await stripe_gql(replace, {"pm": _card(localstripe, CARDS["visa"])}, as_user=owner)
    invoice = await Invoice.get(organization_id=organization.id)
    assert invoice.status == "PAID"
    status = "{ organization { subscription { status } } }"
    assert (await stripe_gql(status, as_user=owner))["data"]["organization"]["subscription"] == {
        "status": "ACTIVE"
    }


async def test_rule_pay_3_an_expired_card_is_refused_through_stripe(
    stripe_gql: GraphQLClient, localstripe: str
) -> None:
    # rule PAY-3, PAY-2: as with the sandbox, an expired card is refused with its reason and the
    # working card stays the default.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
        card=None,
    )
    replace = """mutation ($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) {
      __typename ... on UserError { code message field } } }"""
    working = _card(localstripe, CARDS["visa"])
    await stripe_gql(replace, {"pm": working}, as_user=owner)
    expired = _card(localstripe, CARDS["visa"], exp_year=2020)
    refused = (await stripe_gql(replace, {"pm": expired}, as_user=owner))["data"]
    assert refused["replacePaymentMethod"] == {
        "__typename": "UserError",
        "code": "EXPIRED_CARD",
        "message": "The card has expired.",
        "field": "paymentMethodId",
    }
    cards = await PaymentMethod.filter(organization_id=organization.id).values_list(
        "processor_id", "is_default"
    )
    assert cards == [(working, True)]


async def test_recent_charges_carry_their_key_and_organization(
    processor: StripeProcessor, localstripe: str
) -> None:
    # What reconciliation reads to find charges the gateway never recorded.
    customer = await processor.create_customer("org-5", "Umbrella")
    card = await processor.attach_payment_method(customer, _card(localstripe, CARDS["visa"]))
    made = await processor.charge(
        ChargeRequest(card.payment_method_id, 777, "USD", "renewal:x", "Invoice", customer, "org-5")
    )
    records = await processor.recent_charges(datetime.now(UTC) - timedelta(hours=1))
    mine = [r for r in records if r.charge_id == made.charge_id]
    assert [(r.idempotency_key, r.reference, r.amount, r.succeeded) for r in mine] == [
        ("renewal:x", "org-5", 777, True)
    ]


def _signed_post_headers(payload: bytes) -> dict[str, str]:
    return {
        "stripe-signature": stripe.WebhookSignature.generate_signature_header(
            payload.decode(), WEBHOOK_SECRET
        )
    }


async def _stripe_event(
    http: httpx.AsyncClient, event_id: str, kind: str, subject: dict[str, Any]
) -> str:
    payload = json.dumps(
        {"id": event_id, "object": "event", "type": kind, "data": {"object": subject}}
    ).encode()
    response = await http.post(
        "/webhooks/stripe", content=payload, headers=_signed_post_headers(payload)
    )
    assert response.status_code == 200, response.text
    outcome: str = response.json()["outcome"]
    return outcome


async def test_a_refund_made_in_stripe_arrives_as_charge_refunded_rule_inv_5_crn_1(
    stripe_gql: GraphQLClient, localstripe: str
) -> None:
    # A refund made in Stripe (here localstripe, with the `stripe` client, as the dashboard
    # would), delivered as Stripe's signed charge.refunded with the charge as Stripe keeps it,
    # is recorded as refundInvoice records one; a refund through the API whose webhook arrives
    # afterwards is not recorded twice; a lost dispute takes only what is left.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
        card=None,
    )
    replace = (
        """mutation ($pm: String!) { replacePaymentMethod(paymentMethodId: $pm) { __typename } }"""
    )
    await stripe_gql(replace, {"pm": _card(localstripe, CARDS["visa"])}, as_user=owner)
    change = 'mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) { __typename } }'
    assert (await stripe_gql(change, as_user=owner))["data"]["changePlan"][
        "__typename"
    ] == "PlanChangeApplied"
    invoice = await Invoice.get(organization_id=organization.id)
    payment = await Payment.get(invoice_id=invoice.id)
    intent = payment.processor_charge_id or ""
    assert intent.startswith("pi_") and payment.amount == 1016
    dashboard = stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})

    def charge_now() -> dict[str, Any]:
        latest: Any = dashboard.v1.payment_intents.retrieve(intent).latest_charge
        charge = dashboard.v1.charges.retrieve(latest if isinstance(latest, str) else latest.id)
        found: dict[str, Any] = json.loads(str(charge))  # the charge's JSON, as Stripe sends it
        return found

    made = dashboard.v1.refunds.create(params={"payment_intent": intent, "amount": 300})
    charge = charge_now()
    assert (charge["amount_refunded"], charge["payment_intent"]) == (300, intent)
    http = stripe_gql.http
    assert await _stripe_event(http, "evt_ls_1", "charge.refunded", charge) == (
        "refund recorded: $3.00"
    )
    await invoice.refresh_from_db()
    assert invoice.status == "PARTIALLY_REFUNDED"
    refunds = await Refund.filter(invoice_id=invoice.id)
    assert [(r.amount, r.processor_refund_id) for r in refunds] == [(300, str(made.id))]
    # $2.00 through the gateway's API (a refund at localstripe too); Stripe's webhook follows.
    key = await create_api_key(organization.slug, "desk", ["billing:refund"], datetime.now(UTC))
    asked = await http.post(
        "/graphql",
        json=trusted_request(
            "RefundInvoice", {"invoiceId": str(invoice.id), "amount": 200, "reason": "Goodwill"}
        ),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert asked.json()["data"]["refundInvoice"]["invoice"]["status"] == "PARTIALLY_REFUNDED"
    charge = charge_now()
    assert charge["amount_refunded"] == 500
    assert await _stripe_event(http, "evt_ls_2", "charge.refunded", charge) == "already recorded"
    assert sorted(r.amount for r in await Refund.filter(invoice_id=invoice.id)) == [200, 300]
    # A dispute of the whole $10.16, lost: $5.16 is what is left.
    dispute = {
        "id": "dp_localstripe",
        "object": "dispute",
        "amount": 1016,
        "currency": "usd",
        "charge": charge["id"],
        "payment_intent": intent,
        "reason": "product_not_received",
        "status": "needs_response",
    }
    assert await _stripe_event(http, "evt_ls_3", "charge.dispute.created", dispute) == (
        "dispute recorded"
    )
    lost = {**dispute, "status": "lost"}
    assert await _stripe_event(http, "evt_ls_4", "charge.dispute.closed", lost) == (
        "dispute lost: $5.16 taken"
    )
    await invoice.refresh_from_db()
    assert invoice.status == "REFUNDED"
    assert sorted(r.amount for r in await Refund.filter(invoice_id=invoice.id)) == [200, 300, 516]
