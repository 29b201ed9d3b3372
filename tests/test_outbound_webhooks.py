"""Outbound webhooks (EVT-1) through the real app and the billing clock's delivery, to real
HTTP receivers on loopback: signed, in order per endpoint and organization, retried, re-sent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from billing.clock import FixedClock
from billing.subscription_status import SubscriptionStatus
from billing.webhooks import MAX_ATTEMPTS
from gateway.app import create_app
from gateway.settings import Settings
from models import ApiKey, WebhookDelivery, WebhookEndpoint, WebhookEvent
from resolvers.api_keys import create_api_key
from resolvers.webhook_delivery import DeliveryOptions, deliver_webhooks
from tests.conftest import SEEDED_AT, GraphQLClient, trusted_request
from tests.factories import organization_with
from tests.webhook_receiver import Receiver, running_receiver

ENDING_TOMORROW = (SEEDED_AT - timedelta(days=30), SEEDED_AT + timedelta(days=1))
FAST = DeliveryOptions(timeout_seconds=2.0, allow_private=True)  # loopback receivers
ALL_EVENTS = [
    "subscription.created",
    "subscription.changed",
    "subscription.status_changed",
    "subscription.trial_ending",
    "subscription.trial_ended",
    "plan_change.scheduled",
    "plan_change.applied",
    "invoice.issued",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.refunded",
    "usage.threshold_reached",
    "usage.limit_reached",
    "payment_method.updated",
]


# The README's signature check, as a receiver writes it.
def verify(
    body: bytes, header: str, secret: str, tolerance: int = 300, now: float | None = None
) -> bool:
    """True if one v1 signature in the Billing-Gateway-Signature header is the body's."""
    parts = [part.split("=", 1) for part in header.split(",")]
    timestamps = [value for key, value in parts if key == "t"]
    signatures = [value for key, value in parts if key == "v1"]
    if len(timestamps) != 1 or not signatures:
        return False
    if abs((time.time() if now is None else now) - int(timestamps[0])) > tolerance:
        return False  # too old, or from the future: a replay
    signed = timestamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


async def platform_key(scopes: list[str]) -> str:
    """A platform key (bound to no organization), as the provisioning API will make them."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    await ApiKey.create(
        organization=None,
        name="SaaS backend",
        prefix=prefix,
        secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
        scopes=scopes,
        created_at=SEEDED_AT,
    )
    return f"bgk_{prefix}_{secret}"


@pytest_asyncio.fixture
async def private_ok(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with GATEWAY_WEBHOOKS_ALLOW_PRIVATE=true, so loopback receivers may register."""
    app = create_app(replace(settings, webhooks_allow_private=True), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http
    # Other tests' clocks must not send to endpoints that are gone.
    await WebhookEndpoint.all().delete()


async def run(
    http: httpx.AsyncClient, key: str | None, operation: str, variables: dict[str, Any]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await http.post(
        "/graphql", json=trusted_request(operation, variables), headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


async def register(
    http: httpx.AsyncClient, key: str, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    variables = {"input": {"url": url, "events": events or ALL_EVENTS}}
    body = await run(http, key, "RegisterWebhookEndpoint", variables)
    result: dict[str, Any] = body["data"]["registerWebhookEndpoint"]
    return result


async def deliveries(http: httpx.AsyncClient, key: str, endpoint_id: str) -> list[dict[str, Any]]:
    body = await run(http, key, "WebhookDeliveries", {"endpointId": endpoint_id, "first": 200})
    listed: list[dict[str, Any]] = body["data"]["webhookDeliveries"]
    return listed


async def declined_renewal(gql: GraphQLClient) -> Any:
    organization, owner = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=ENDING_TOMORROW,
        card="pm_card_chargeDeclined",
    )
    await gql("mutation { advanceTestClock(days: 1) { events } }", as_user=owner)
    return organization


def checked(receiver: Receiver, secret: str, at: float) -> None:
    for item in receiver.received:
        header = item.headers["Billing-Gateway-Signature"]
        assert verify(item.body, header, secret, now=at), header
        assert item.headers["Billing-Gateway-Event-Id"] == item.event["id"]


async def test_a_declined_renewal_reaches_the_receiver_signed_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(private_ok, key, receiver.url)
        assert registered["__typename"] == "WebhookEndpointRegistered"
        secret = registered["secret"]
        organization = await declined_renewal(gql)

        counts = await deliver_webhooks(SEEDED_AT, FAST)  # what the clock's tick runs

    events = receiver.events(organization.id)
    assert [e["type"] for e in events] == [
        "invoice.issued",
        "invoice.payment_failed",
        "subscription.status_changed",
    ]
    assert counts.delivered == len(receiver.received) == 3
    issued, failed, changed = events
    assert failed["data"]["invoice"]["id"] == issued["data"]["invoice"]["id"]
    assert failed["data"]["invoice"]["status"] == "OPEN"
    assert "card_declined" in failed["data"]["reason"]
    assert (changed["data"]["old_status"], changed["data"]["new_status"]) == (
        "ACTIVE",
        "PENDING_PAYMENT",
    )
    assert changed["data"]["outbound_blocked"] is False  # DUN-2: the grace period keeps sending
    assert len({e["id"] for e in events}) == 3 and all(e["id"].startswith("evt_") for e in events)
    checked(receiver, secret, SEEDED_AT.timestamp())
    # A wrong secret, an altered body or an old timestamp does not verify.
    first = receiver.received[0]
    header = first.headers["Billing-Gateway-Signature"]
    assert not verify(first.body, header, "whsec_wrong", now=SEEDED_AT.timestamp())
    assert not verify(first.body + b" ", header, secret, now=SEEDED_AT.timestamp())
    assert not verify(first.body, header, secret, now=SEEDED_AT.timestamp() + 301)

    listed = await deliveries(private_ok, key, registered["endpoint"]["id"])
    assert {(d["eventType"], d["status"], d["attempts"]) for d in listed} == {
        ("invoice.issued", "DELIVERED", 1),
        ("invoice.payment_failed", "DELIVERED", 1),
        ("subscription.status_changed", "DELIVERED", 1),
    }


async def test_a_failing_receiver_gets_every_event_in_order_later_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as failing, running_receiver() as healthy:
        dead = await register(private_ok, key, failing.url)
        await register(private_ok, key, healthy.url)
        failing.failing = True  # it records what it gets, then answers 500
        organization = await declined_renewal(gql)
        t0 = SEEDED_AT

        await deliver_webhooks(t0, FAST)
        # One dead endpoint delays only itself: the other has everything already.
        assert len(healthy.events(organization.id)) == 3
        assert len(failing.received) == 1  # only the first: the next ones wait for it
        await deliver_webhooks(t0 + timedelta(seconds=30), FAST)
        assert len(failing.received) == 1  # not due yet: the first pause is a minute
        await deliver_webhooks(t0 + timedelta(minutes=1), FAST)
        assert len(failing.received) == 2  # the same event again; then a 5-minute pause
        listed = await deliveries(private_ok, key, dead["endpoint"]["id"])
        head = next(d for d in listed if d["eventType"] == "invoice.issued")
        assert (head["status"], head["attempts"], head["lastStatusCode"]) == ("PENDING", 2, 500)
        assert head["lastError"].startswith("HTTP 500")
        assert head["nextAttemptAt"].startswith("2026-03-12T09:36:00")  # 09:31 + 5 minutes

        failing.failing = False
        counts = await deliver_webhooks(t0 + timedelta(minutes=6), FAST)

    assert counts.delivered == 3
    ids = [r.event["id"] for r in failing.received]
    assert len(ids) == 5 and len(set(ids)) == 3  # at least once: receivers dedupe by id
    assert [e["type"] for e in failing.events(organization.id)] == [
        "invoice.issued",
        "invoice.payment_failed",
        "subscription.status_changed",
    ]
    assert [e["id"] for e in failing.events()] == [e["id"] for e in healthy.events()]
    # The three sent at t0 + 6 minutes verify then (the earlier tries are older than 5 minutes).
    last = Receiver(failing.url, failing.received[-3:])
    checked(last, dead["secret"], (t0 + timedelta(minutes=6)).timestamp())


async def test_a_delivery_that_keeps_failing_gives_up_after_three_days_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(private_ok, key, receiver.url)
        receiver.failing = True
        organization = await declined_renewal(gql)
        at = SEEDED_AT
        for _ in range(MAX_ATTEMPTS):
            await deliver_webhooks(at, FAST)
            head = (
                await WebhookDelivery.filter(
                    endpoint_id=registered["endpoint"]["id"], organization_id=organization.id
                )
                .order_by("id")
                .first()
            )
            assert head is not None
            if head.next_attempt_at is None:
                break
            at = head.next_attempt_at
        assert head is not None
        assert head.status == "FAILED" and head.attempts == MAX_ATTEMPTS
        assert at - SEEDED_AT >= timedelta(days=3)
        # Given up, it no longer holds the queue: the next event was tried at once (and failed
        # too); once the receiver is back, the rest goes out.
        receiver.failing = False
        at += timedelta(minutes=1)
        await deliver_webhooks(at, FAST)

        # A re-send brings the failed one back, with its event id, at the end of the queue.
        body = await run(private_ok, key, "ResendWebhookDelivery", {"id": str(head.id)})
        resent = body["data"]["resendWebhookDelivery"]
        assert resent["__typename"] == "WebhookDeliveryResent"
        assert resent["delivery"]["eventId"] == head.event_id
        assert resent["delivery"]["status"] == "PENDING"
        await deliver_webhooks(at, FAST)

    got = [r.event["id"] for r in receiver.received]
    # MAX_ATTEMPTS failed tries of the first, the other two, then the first again, re-sent.
    assert got[-1] == head.event_id and got.count(head.event_id) == MAX_ATTEMPTS + 1
    assert [e["type"] for e in receiver.events(organization.id)] == [
        "invoice.issued",
        "invoice.payment_failed",
        "subscription.status_changed",
    ]
    listed = await deliveries(private_ok, key, registered["endpoint"]["id"])
    statuses = [d["status"] for d in listed if d["eventId"] == head.event_id]
    assert statuses == ["DELIVERED", "FAILED"]  # the newest first


async def test_a_delivered_event_is_resent_with_the_same_id_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(private_ok, key, receiver.url, ["invoice.payment_failed"])
        organization = await declined_renewal(gql)
        await deliver_webhooks(SEEDED_AT, FAST)
        (delivered,) = await deliveries(private_ok, key, registered["endpoint"]["id"])
        body = await run(private_ok, key, "ResendWebhookDelivery", {"id": delivered["id"]})
        assert body["data"]["resendWebhookDelivery"]["__typename"] == "WebhookDeliveryResent"
        await deliver_webhooks(SEEDED_AT, FAST)

    assert [r.event["type"] for r in receiver.received] == ["invoice.payment_failed"] * 2
    assert receiver.received[0].event["id"] == receiver.received[1].event["id"]
    assert receiver.received[0].body == receiver.received[1].body
    assert len(receiver.events(organization.id)) == 1  # deduplicated by id
    listed = await deliveries(private_ok, key, registered["endpoint"]["id"])
    assert [(d["eventId"], d["status"]) for d in listed] == [
        (delivered["eventId"], "DELIVERED"),
        (delivered["eventId"], "DELIVERED"),
    ]


async def test_during_a_rotation_both_secrets_verify_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(private_ok, key, receiver.url, ["invoice.payment_failed"])
        endpoint_id, old_secret = registered["endpoint"]["id"], registered["secret"]
        body = await run(
            private_ok, key, "RotateWebhookSecret", {"id": endpoint_id, "previousValidHours": 24}
        )
        rotated = body["data"]["rotateWebhookSecret"]
        assert rotated["__typename"] == "WebhookSecretRotated"
        new_secret = rotated["secret"]
        assert new_secret != old_secret
        await declined_renewal(gql)
        await deliver_webhooks(SEEDED_AT, FAST)
        # After the overlap only the new secret signs.
        await declined_renewal(gql)
        later = SEEDED_AT + timedelta(hours=25)
        await deliver_webhooks(later, FAST)

    during, after = receiver.received
    header = during.headers["Billing-Gateway-Signature"]
    assert header.count("v1=") == 2
    for secret in (old_secret, new_secret):
        assert verify(during.body, header, secret, now=SEEDED_AT.timestamp())
    header = after.headers["Billing-Gateway-Signature"]
    assert header.count("v1=") == 1
    assert verify(after.body, header, new_secret, now=later.timestamp())
    assert not verify(after.body, header, old_secret, now=later.timestamp())


async def test_a_hanging_receiver_delays_only_itself_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as hanging, running_receiver() as healthy:
        await register(private_ok, key, hanging.url, ["invoice.payment_failed"])
        await register(private_ok, key, healthy.url, ["invoice.payment_failed"])
        hanging.hang_seconds = 3.0
        await declined_renewal(gql)
        started = time.monotonic()
        options = DeliveryOptions(timeout_seconds=0.5, allow_private=True)
        counts = await deliver_webhooks(SEEDED_AT, options)
        took = time.monotonic() - started
        assert (counts.delivered, counts.postponed) == (1, 1)
        assert len(healthy.received) == 1
        assert took < 2.5  # bounded by the timeout, not by the receiver
        failed = await WebhookDelivery.filter(status="PENDING").first()
        assert failed is not None and "Timeout" in (failed.last_error or "")


async def test_a_declined_plan_change_records_no_event_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(private_ok, key, receiver.url)
        organization, owner = await organization_with(
            [{"product": "email", "plan": "email-1000"}],
            period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
            card="pm_card_chargeDeclined",
        )
        body = await gql(
            'mutation { changePlan(input: {product: "email", plan: "email-1500"}, '
            "confirmAmountDue: 1016) { __typename ... on UserError { code } } }",
            as_user=owner,
        )
        assert body["data"]["changePlan"] == {"__typename": "UserError", "code": "PAYMENT_DECLINED"}
        # The invoice it issued was rolled back, and its event with it (same transaction).
        assert await WebhookEvent.filter(organization_id=organization.id).count() == 0
        await deliver_webhooks(SEEDED_AT, FAST)
    assert receiver.events(organization.id) == []


async def test_bad_endpoints_and_callers_are_refused_rule_evt_1(
    client: httpx.AsyncClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    before = await WebhookEndpoint.all().count()
    refused = {
        "ftp://hooks.example.com/in": "URL_SCHEME",
        "javascript:alert(1)": "URL_SCHEME",
        "http://127.0.0.1:9/hooks": "URL_PRIVATE",
        "http://localhost/hooks": "URL_PRIVATE",
        "https://10.1.2.3/hooks": "URL_PRIVATE",
        "http://[::1]/hooks": "URL_PRIVATE",
        "http://169.254.169.254/latest/meta-data": "URL_PRIVATE",
    }
    for url, code in refused.items():
        answer = await register(client, key, url)  # the default: GATEWAY_WEBHOOKS_ALLOW_PRIVATE off
        assert (answer["__typename"], answer["code"], answer["field"]) == ("UserError", code, "url")
        assert answer["message"]
    # With the setting, loopback is allowed; a scheme never is.
    assert (await register(private_ok, key, "ftp://127.0.0.1/x"))["code"] == "URL_SCHEME"
    unknown = await register(private_ok, key, "http://127.0.0.1:9/h", ["invoice.lost"])
    assert (unknown["code"], unknown["field"]) == ("BAD_USER_INPUT", "events")
    assert "invoice.lost" in unknown["message"]
    assert await WebhookEndpoint.all().count() == before  # nothing was made

    variables = {"input": {"url": "https://hooks.example.com/in", "events": ["invoice.paid"]}}
    no_scope = await platform_key(["organizations:read"])
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=ENDING_TOMORROW
    )
    # An organization's key, even with the scope, is not a platform key (ACC-6).
    organization_key = await create_api_key(
        organization.slug, "partner", ["webhooks:write"], SEEDED_AT
    )
    callers = ((None, "UNAUTHENTICATED"), (no_scope, "FORBIDDEN"), (organization_key, "FORBIDDEN"))
    for caller, code in callers:
        body = await run(private_ok, caller, "RegisterWebhookEndpoint", variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
        assert body["data"] is None
    body = await run(private_ok, key, "ResendWebhookDelivery", {"id": "999999999"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    body = await run(
        private_ok, key, "RotateWebhookSecret", {"id": "nope", "previousValidHours": 1}
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    assert await WebhookEndpoint.all().count() == before


def _types(receiver: Receiver, organization_id: object) -> list[str]:
    return [e["type"] for e in receiver.events(organization_id)]


async def test_changes_payments_cards_and_usage_reach_the_receiver_rule_evt_1(
    client: httpx.AsyncClient, gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(private_ok, key, receiver.url)
        organization, owner = await organization_with(
            [{"product": "email", "plan": "email-1000"}],
            period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
        )
        change = 'mutation { changePlan(input: {product: "email", plan: "%s"}, confirmAmountDue: %d) { __typename } }'
        await gql(change % ("email-1500", 1016), as_user=owner)
        refund_key = await create_api_key(organization.slug, "desk", ["billing:refund"], SEEDED_AT)
        await deliver_webhooks(SEEDED_AT, FAST)
        receiver_events = receiver.events(organization.id)
        invoice_id = receiver_events[0]["data"]["invoice"]["id"]
        refund = {"invoiceId": invoice_id, "amount": 500, "reason": "Goodwill"}
        await run(client, refund_key, "RefundInvoice", refund)
        await gql(change % ("email-1000", 0), as_user=owner)  # a downgrade: at the period end
        await gql(
            'mutation { replacePaymentMethod(paymentMethodId: "pm_card_mastercard") { __typename } }',
            as_user=owner,
        )
        usage = '[{id: "w1", product: "email", metric: "emails", quantity: 12000}]'
        await gql(f"mutation {{ recordUsage(events: {usage}) {{ __typename }} }}", as_user=owner)
        await gql('mutation { cancelSubscription(reason: "moving") { __typename } }', as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)

    assert _types(receiver, organization.id) == [
        "invoice.issued",
        "invoice.paid",
        "plan_change.applied",
        "subscription.changed",
        "invoice.refunded",
        "plan_change.scheduled",
        "subscription.status_changed",  # ACTIVE -> DOWNGRADING
        "payment_method.updated",
        "usage.threshold_reached",
        "subscription.status_changed",  # DOWNGRADING -> CANCELLING
    ]
    by_type = {e["type"]: e["data"] for e in receiver.events(organization.id)}
    assert by_type["invoice.paid"]["invoice"]["status"] == "PAID"
    assert by_type["invoice.paid"]["invoice"]["amount_due"] == 1016
    applied = by_type["plan_change.applied"]["change"]
    assert (applied["product"], applied["amount_due_now"]) == ("email", 1016)
    assert by_type["invoice.refunded"]["refund_amount"] == 500
    assert by_type["invoice.refunded"]["invoice"]["status"] == "PARTIALLY_REFUNDED"
    assert by_type["plan_change.scheduled"]["change"]["timing"] == "END_OF_PERIOD"
    assert by_type["payment_method.updated"]["payment_method"]["brand"] == "mastercard"
    threshold = by_type["usage.threshold_reached"]
    assert (threshold["metric"], threshold["used"], threshold["limit"]) == ("emails", 12000, 15000)
    statuses = [
        (e["data"]["old_status"], e["data"]["new_status"], e["data"]["usage_gate_reason"])
        for e in receiver.events(organization.id)
        if e["type"] == "subscription.status_changed"
    ]
    assert statuses == [
        ("ACTIVE", "DOWNGRADING", None),
        ("DOWNGRADING", "CANCELLING", "SUBSCRIPTION_CANCELLING"),  # CAN-4: outbound stops
    ]
    assert len(await deliveries(private_ok, key, registered["endpoint"]["id"])) >= 10


async def test_a_trial_ending_then_ended_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    trial_end = SEEDED_AT + timedelta(days=5)
    with running_receiver() as receiver:
        await register(private_ok, key, receiver.url)
        organization, owner = await organization_with(
            [{"product": "email", "plan": "email-1000"}],
            period=(trial_end - timedelta(days=14), trial_end),
            status=SubscriptionStatus.TRIALING,
            trial_ends_at=trial_end,
            card=None,
        )
        advance = "mutation { advanceTestClock(days: %d) { events } }"
        await gql(advance % 1, as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)
        assert _types(receiver, organization.id) == []  # 4 days left: not yet
        await gql(advance % 1, as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)
        assert _types(receiver, organization.id) == ["subscription.trial_ending"]
        await gql(advance % 5, as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)

    events = receiver.events(organization.id)
    assert [e["type"] for e in events] == [
        "subscription.trial_ending",
        "subscription.trial_ended",
        "subscription.status_changed",
    ]
    assert events[0]["data"]["subscription"]["trial_ends_at"] == trial_end.isoformat()
    assert (events[2]["data"]["old_status"], events[2]["data"]["new_status"]) == (
        "TRIALING",
        "TRIAL_ENDED",
    )


def test_the_signature_check_is_the_readmes() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert inspect.getsource(verify) in readme


async def test_frozen_tells_the_backend_to_stop_outbound_sending_rule_evt_1_can_4(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(private_ok, key, receiver.url, ["subscription.status_changed"])
        organization = await declined_renewal(gql)
        owner = f"owner@{organization.slug}.test"
        await gql("mutation { advanceTestClock(days: 5) { events } }", as_user=owner)  # DUN-3
        await deliver_webhooks(SEEDED_AT, FAST)

    changes = [
        (e["data"]["old_status"], e["data"]["new_status"], e["data"]["outbound_blocked"])
        for e in receiver.events(organization.id)
    ]
    assert changes == [("ACTIVE", "PENDING_PAYMENT", False), ("PENDING_PAYMENT", "FROZEN", True)]


async def test_a_private_address_is_refused_when_sending_too_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    # Registered while private addresses were allowed; a clock without the setting sends nothing.
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(private_ok, key, receiver.url, ["invoice.payment_failed"])
        await declined_renewal(gql)
        counts = await deliver_webhooks(SEEDED_AT, DeliveryOptions(timeout_seconds=2.0))
    assert (counts.delivered, counts.postponed, receiver.received) == (0, 1, [])
    (delivery,) = await deliveries(private_ok, key, registered["endpoint"]["id"])
    assert (delivery["status"], delivery["attempts"]) == ("PENDING", 1)
    assert "private or loopback address" in delivery["lastError"]


async def test_two_clocks_at_once_send_each_event_once_rule_evt_1(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(private_ok, key, receiver.url)
        organization = await declined_renewal(gql)
        first, second = await asyncio.gather(
            deliver_webhooks(SEEDED_AT, FAST), deliver_webhooks(SEEDED_AT, FAST)
        )
    assert first.delivered + second.delivered == 3
    ids = [r.event["id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 3
    assert [e["type"] for e in receiver.events(organization.id)] == [
        "invoice.issued",
        "invoice.payment_failed",
        "subscription.status_changed",
    ]


async def test_the_highest_tier_used_up_is_told_once_rule_evt_1_use_5(
    gql: GraphQLClient, private_ok: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(private_ok, key, receiver.url, ["usage.limit_reached"])
        organization, owner = await organization_with(
            [{"product": "email", "plan": "email-2500", "upgrade_preference": "AUTO_UPGRADE"}],
            period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
        )
        record = 'mutation { recordUsage(events: [{id: "%s", product: "email", metric: "emails", quantity: %d}]) { __typename } }'
        for batch, quantity in (("a", 25_001), ("b", 10), ("c", 10)):
            await gql(record % (batch, quantity), as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)

    (event,) = receiver.events(organization.id)
    assert event["type"] == "usage.limit_reached"
    assert event["data"] == {
        "product": "email",
        "plan": "email-2500",
        "metric": "emails",
        "limit": 25_000,
        "outbound_blocked": True,
    }
