"""Outbound webhooks (EVT-1) through the real app and the billing clock's delivery, to real
HTTP receivers on loopback: registered with a platform key, signed, in order per endpoint and
organization, retried, re-sent; bad endpoints and callers refused."""

from __future__ import annotations

import asyncio
import inspect
import time
from datetime import timedelta
from pathlib import Path

import httpx

from billing.webhooks import MAX_ATTEMPTS
from models import WebhookDelivery, WebhookEndpoint
from resolvers.api_keys import create_api_key
from resolvers.webhook_delivery import DeliveryOptions, deliver_webhooks
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with
from tests.webhook_receiver import (
    ENDING_TOMORROW,
    FAST,
    Receiver,
    checked,
    declined_renewal,
    deliveries,
    platform_key,
    register,
    run,
    running_receiver,
    verify,
)


async def test_a_declined_renewal_reaches_the_receiver_signed_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(webhook_client, key, receiver.url)
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

    listed = await deliveries(webhook_client, key, registered["endpoint"]["id"])
    assert {(d["eventType"], d["status"], d["attempts"]) for d in listed} == {
        ("invoice.issued", "DELIVERED", 1),
        ("invoice.payment_failed", "DELIVERED", 1),
        ("subscription.status_changed", "DELIVERED", 1),
    }


async def test_a_failing_receiver_gets_every_event_in_order_later_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as failing, running_receiver() as healthy:
        dead = await register(webhook_client, key, failing.url)
        await register(webhook_client, key, healthy.url)
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
        listed = await deliveries(webhook_client, key, dead["endpoint"]["id"])
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
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(webhook_client, key, receiver.url)
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
        body = await run(webhook_client, key, "ResendWebhookDelivery", {"id": str(head.id)})
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
    listed = await deliveries(webhook_client, key, registered["endpoint"]["id"])
    statuses = [d["status"] for d in listed if d["eventId"] == head.event_id]
    assert statuses == ["DELIVERED", "FAILED"]  # the newest first


async def test_a_delivered_event_is_resent_with_the_same_id_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(webhook_client, key, receiver.url, ["invoice.payment_failed"])
        organization = await declined_renewal(gql)
        await deliver_webhooks(SEEDED_AT, FAST)
        (delivered,) = await deliveries(webhook_client, key, registered["endpoint"]["id"])
        body = await run(webhook_client, key, "ResendWebhookDelivery", {"id": delivered["id"]})
        assert body["data"]["resendWebhookDelivery"]["__typename"] == "WebhookDeliveryResent"
        await deliver_webhooks(SEEDED_AT, FAST)

    assert [r.event["type"] for r in receiver.received] == ["invoice.payment_failed"] * 2
    assert receiver.received[0].event["id"] == receiver.received[1].event["id"]
    assert receiver.received[0].body == receiver.received[1].body
    assert len(receiver.events(organization.id)) == 1  # deduplicated by id
    listed = await deliveries(webhook_client, key, registered["endpoint"]["id"])
    assert [(d["eventId"], d["status"]) for d in listed] == [
        (delivered["eventId"], "DELIVERED"),
        (delivered["eventId"], "DELIVERED"),
    ]


async def test_during_a_rotation_both_secrets_verify_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(webhook_client, key, receiver.url, ["invoice.payment_failed"])
        endpoint_id, old_secret = registered["endpoint"]["id"], registered["secret"]
        body = await run(
            webhook_client,
            key,
            "RotateWebhookSecret",
            {"id": endpoint_id, "previousValidHours": 24},
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
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as hanging, running_receiver() as healthy:
        await register(webhook_client, key, hanging.url, ["invoice.payment_failed"])
        await register(webhook_client, key, healthy.url, ["invoice.payment_failed"])
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


async def test_bad_endpoints_and_callers_are_refused_rule_evt_1(
    client: httpx.AsyncClient, webhook_client: httpx.AsyncClient
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
    assert (await register(webhook_client, key, "ftp://127.0.0.1/x"))["code"] == "URL_SCHEME"
    unknown = await register(webhook_client, key, "http://127.0.0.1:9/h", ["invoice.lost"])
    assert (unknown["code"], unknown["field"]) == ("BAD_USER_INPUT", "events")
    assert "invoice.lost" in unknown["message"]
    assert await WebhookEndpoint.all().count() == before  # nothing was made

    variables = {"input": {"url": "https://hooks.example.com/in", "events": ["invoice.paid"]}}
    no_scope = await platform_key(["organizations:read"])
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=ENDING_TOMORROW
    )
    # An organization's key is not a platform key (ACC-6); it cannot even carry the scope.
    organization_key = await create_api_key(
        organization.slug, "partner", ["usage:write"], SEEDED_AT
    )
    callers = ((None, "UNAUTHENTICATED"), (no_scope, "FORBIDDEN"), (organization_key, "FORBIDDEN"))
    for caller, code in callers:
        body = await run(webhook_client, caller, "RegisterWebhookEndpoint", variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
        assert body["data"] is None
    body = await run(webhook_client, key, "ResendWebhookDelivery", {"id": "999999999"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    body = await run(
        webhook_client, key, "RotateWebhookSecret", {"id": "nope", "previousValidHours": 1}
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    assert await WebhookEndpoint.all().count() == before


def test_the_signature_check_is_the_readmes() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert inspect.getsource(verify) in readme


async def test_a_private_address_is_refused_when_sending_too_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    # Registered while private addresses were allowed; a clock without the setting sends nothing.
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(webhook_client, key, receiver.url, ["invoice.payment_failed"])
        await declined_renewal(gql)
        counts = await deliver_webhooks(SEEDED_AT, DeliveryOptions(timeout_seconds=2.0))
    assert (counts.delivered, counts.postponed, receiver.received) == (0, 1, [])
    (delivery,) = await deliveries(webhook_client, key, registered["endpoint"]["id"])
    assert (delivery["status"], delivery["attempts"]) == ("PENDING", 1)
    assert "private or loopback address" in delivery["lastError"]


async def test_two_clocks_at_once_send_each_event_once_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url)
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
