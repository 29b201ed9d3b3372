"""Which billing events reach the SaaS backend's receiver, with what (EVT-1): recorded where
the change happens, in its transaction, so a change that rolls back sends nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx

from billing.subscription_status import SubscriptionStatus
from models import WebhookEvent
from resolvers.api_keys import create_api_key
from resolvers.webhook_delivery import deliver_webhooks
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with
from tests.webhook_receiver import (
    FAST,
    Receiver,
    declined_renewal,
    deliveries,
    platform_key,
    register,
    run,
    running_receiver,
)


async def test_a_declined_plan_change_records_no_event_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url)
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


def _types(receiver: Receiver, organization_id: object) -> list[str]:
    return [e["type"] for e in receiver.events(organization_id)]


async def test_changes_payments_cards_and_usage_reach_the_receiver_rule_evt_1(
    client: httpx.AsyncClient, gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        registered = await register(webhook_client, key, receiver.url)
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
    assert by_type["invoice.paid"]["invoice"]["tax"] == 0  # no billing country: no tax (TAX-1)
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
    assert len(await deliveries(webhook_client, key, registered["endpoint"]["id"])) >= 10


async def test_a_trial_ending_then_ended_rule_evt_1(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    trial_end = SEEDED_AT + timedelta(days=5)
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url)
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


async def test_frozen_tells_the_backend_to_stop_outbound_sending_rule_evt_1_can_4(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url, ["subscription.status_changed"])
        organization = await declined_renewal(gql)
        owner = f"owner@{organization.slug}.test"
        await gql("mutation { advanceTestClock(days: 5) { events } }", as_user=owner)  # DUN-3
        await deliver_webhooks(SEEDED_AT, FAST)

    changes = [
        (e["data"]["old_status"], e["data"]["new_status"], e["data"]["outbound_blocked"])
        for e in receiver.events(organization.id)
    ]
    assert changes == [("ACTIVE", "PENDING_PAYMENT", False), ("PENDING_PAYMENT", "FROZEN", True)]


async def test_the_highest_tier_used_up_is_told_once_rule_evt_1_use_5(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url, ["usage.limit_reached"])
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


async def test_a_line_blocked_at_its_limit_is_told_once_rule_evt_1_use_5(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url, ["usage.limit_reached"])
        organization, owner = await organization_with(
            [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}],
            period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
        )
        record = 'mutation { recordUsage(events: [{id: "%s", product: "email", metric: "emails", quantity: %d}]) { __typename } }'
        gate = '{ usageGate(product: "email", metric: "emails") { allowed reason } }'
        await gql(record % ("a", 9_999), as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)
        assert receiver.events(organization.id) == []  # one left: not blocked yet
        await gql(record % ("b", 1), as_user=owner)
        assert (await gql(gate, as_user=owner))["data"]["usageGate"] == {
            "allowed": False,
            "reason": "LIMIT_REACHED",
        }
        await gql(record % ("c", 5), as_user=owner)
        await deliver_webhooks(SEEDED_AT, FAST)

    (event,) = receiver.events(organization.id)
    assert event["data"] == {
        "product": "email",
        "plan": "email-1000",
        "metric": "emails",
        "limit": 10_000,
        "outbound_blocked": True,
    }


async def test_subscribing_again_creates_a_subscription_rule_evt_1_sub_3(
    gql: GraphQLClient, webhook_client: httpx.AsyncClient
) -> None:
    key = await platform_key(["webhooks:write"])
    with running_receiver() as receiver:
        await register(webhook_client, key, receiver.url)
        organization, owner = await organization_with(
            [{"product": "email", "plan": "email-1000"}],
            period=(SEEDED_AT - timedelta(days=40), SEEDED_AT - timedelta(days=10)),
            status=SubscriptionStatus.CANCELLED,
        )
        wanted = {"product": "email", "plan": "email-1000"}
        preview = await gql(
            "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { amountDueNow { amount } } }",
            {"input": wanted},
            as_user=owner,
        )
        amount = preview["data"]["previewPlanChange"]["amountDueNow"]["amount"]
        body = await gql(
            "mutation ($input: PlanChangeInput!, $amount: Int!) { subscribe(input: $input, confirmAmountDue: $amount) { __typename } }",
            {"input": wanted, "amount": amount},
            as_user=owner,
        )
        assert body["data"]["subscribe"]["__typename"] == "PlanChangeApplied"
        await deliver_webhooks(SEEDED_AT, FAST)

    events = receiver.events(organization.id)
    assert [e["type"] for e in events] == [
        "invoice.issued",
        "invoice.paid",
        "subscription.created",
        "plan_change.applied",
        "subscription.changed",
        "subscription.status_changed",
    ]
    created, changed = events[2]["data"], events[5]["data"]
    assert created["subscription"]["status"] == "ACTIVE"
    assert (changed["old_status"], changed["new_status"]) == ("CANCELLED", "ACTIVE")
