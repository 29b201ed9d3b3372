"""The subscription lifecycle driven by the sandbox test clock (rules SUB-1 to SUB-3, CHG-6,
CAN-1, CAN-3, DUN-1), and the billing clock's concurrency guarantees."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from billing.subscription_status import SubscriptionStatus
from models import Invoice, Notification, Organization, Payment, SubscriptionItem, Workspace
from payments.sandbox import SandboxProcessor
from resolvers.billing_clock import run_due_work
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

STATE = """{ organization { subscription { status currentPeriodEnd cancelAt
  scheduledChange { effectiveAt plan { code } } items { product { code } plan { code } } } } }"""
PREVIEW = "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { amountDueNow { amount } blockers { code } } }"


async def _state(gql: GraphQLClient, user: str) -> dict[str, Any]:
    body = await gql(STATE, as_user=user)
    subscription: dict[str, Any] = body["data"]["organization"]["subscription"]
    return subscription


async def _advance(gql: GraphQLClient, user: str, days: int) -> list[str]:
    body = await gql(
        f"mutation {{ advanceTestClock(days: {days}) {{ now events }} }}", as_user=user
    )
    events: list[str] = body["data"]["advanceTestClock"]["events"]
    return events


async def test_trial_ends_then_subscribe(gql: GraphQLClient) -> None:
    # rule MNY-4 (time moved by the organization's test clock), SUB-2: the trial ends without a charge; subscribing starts a paid period at once.
    trial_end = SEEDED_AT + timedelta(days=14)
    organization, owner = await organization_with(
        [
            {
                "product": "marketing",
                "plan": "plus",
                "contact_limit": 2500,
                "seats": 2,
                "seats_in_use": 2,
            }
        ],
        period=(trial_end - timedelta(days=30), trial_end),
        status=SubscriptionStatus.TRIALING,
        trial_ends_at=trial_end,
        card=None,
    )
    events = await _advance(gql, owner, 14)
    # EVT-1: three days before the end, the trial-ending event is recorded (a step of its own).
    assert [e.split(" ", 2)[2] for e in events] == [
        f"{organization.name}: trial ending on {trial_end:%-d %b %Y}",
        f"{organization.name}: trial ended",
    ]
    assert (await _state(gql, owner))["status"] == "TRIAL_ENDED"
    assert await Invoice.filter(organization_id=organization.id).count() == 0

    subscribe = {"product": "marketing"}
    blocked = (await gql(PREVIEW, {"input": subscribe}, as_user=owner))["data"]["previewPlanChange"]
    assert blocked["blockers"] == [{"code": "NO_PAYMENT_METHOD"}]
    card = await gql(
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
        as_user=owner,
    )
    assert card["data"]["replacePaymentMethod"]["__typename"] == "PaymentMethodReplaced"
    preview = (await gql(PREVIEW, {"input": subscribe}, as_user=owner))["data"]["previewPlanChange"]
    assert preview == {"amountDueNow": {"amount": 4900 + 3000 + 1900}, "blockers": []}
    body = await gql(
        """mutation ($input: PlanChangeInput!) { subscribe(input: $input, confirmAmountDue: 9800) {
             __typename ... on PlanChangeApplied { invoice { status amountDue { amount } } subscription { status nextBillingDate } } } }""",
        {"input": subscribe},
        as_user=owner,
    )
    applied = body["data"]["subscribe"]
    assert applied["invoice"] == {"status": "PAID", "amountDue": {"amount": 9800}}
    assert applied["subscription"]["status"] == "ACTIVE"
    assert (
        applied["subscription"]["nextBillingDate"]
        == (trial_end.replace(month=4, day=26)).isoformat()
    )


async def test_downgrade_then_cancel_then_retention(gql: GraphQLClient) -> None:
    start = SEEDED_AT - timedelta(days=10)
    end = start.replace(month=4)
    organization, owner = await organization_with(
        [
            {"product": "messaging", "plan": "growth"},
            {"product": "email", "plan": "email-1000"},
            {"product": "store", "plan": "business"},
        ],
        period=(start, end),
    )
    await Workspace.create(organization=organization, slug="support", name="Support")

    # rule CHG-6: DOWNGRADING until the period ends, then the new plan and its price.
    body = await gql(
        """mutation { changePlan(input: {product: "messaging", plan: "starter"}, confirmAmountDue: 0) {
             __typename ... on PlanChangeScheduled { effectiveAt } } }""",
        as_user=owner,
    )
    assert body["data"]["changePlan"] == {
        "__typename": "PlanChangeScheduled",
        "effectiveAt": end.isoformat(),
    }
    state = await _state(gql, owner)
    assert state["status"] == "DOWNGRADING"
    assert state["scheduledChange"] == {"effectiveAt": end.isoformat(), "plan": {"code": "starter"}}

    events = await _advance(gql, owner, 21)
    renewed = [e for e in events if "renewed to 2 May 2026" in e]
    assert len(renewed) == 1 and "paid" in renewed[0]
    assert any("renewal notice sent" in e for e in events)  # NOT-1, a week ahead
    notice = await Notification.get(organization_id=organization.id, kind="UPCOMING_RENEWAL")
    assert (
        notice.message == "Your subscription renews on 2 April 2026 for $154.00."
    )  # on the new plan

    state = await _state(gql, owner)
    assert state["status"] == "ACTIVE"
    assert {i["product"]["code"]: i["plan"]["code"] for i in state["items"]}[
        "messaging"
    ] == "starter"
    renewal = await Invoice.filter(organization_id=organization.id, kind="SUBSCRIPTION").get()
    assert (renewal.total, renewal.status) == (7900 + 3000 + 4500, "PAID")  # DUN-1

    # rule CAN-1: cancel, reactivate before the end, cancel again.
    cancel = 'mutation { cancelSubscription(reason: "Closing the shop") { __typename ... on SubscriptionCancelled { cancelAt } } }'
    body = await gql(cancel, as_user=owner)
    assert body["data"]["cancelSubscription"]["cancelAt"] == end.replace(month=5).isoformat()
    assert (await _state(gql, owner))["status"] == "CANCELLING"
    body = await gql("mutation { reactivateSubscription { __typename } }", as_user=owner)
    assert body["data"]["reactivateSubscription"]["__typename"] == "SubscriptionReactivated"
    assert (await _state(gql, owner))["status"] == "ACTIVE"
    await gql(cancel, as_user=owner)

    events = await _advance(gql, owner, 31)
    assert any("cancelled at the end of the period" in e for e in events)
    assert (await _state(gql, owner))["status"] == "CANCELLED"
    invoices = await Invoice.filter(organization_id=organization.id).count()

    # rule CAN-3: the data goes after 90 days; the invoices stay.
    events = await _advance(gql, owner, 88)  # the clock stands a day past the end: 2 May + 89 days
    assert not any("data deleted" in e for e in events)
    assert await Workspace.filter(organization_id=organization.id).exists()
    events = await _advance(gql, owner, 1)
    assert any("data deleted after the retention period, invoices kept" in e for e in events)
    assert not await Workspace.filter(organization_id=organization.id).exists()
    assert not await SubscriptionItem.filter(subscription__organization_id=organization.id).exists()
    assert await Invoice.filter(organization_id=organization.id).count() == invoices == 1


async def test_two_identical_changes_at_once_apply_once(gql: GraphQLClient) -> None:
    # CHG-2 under concurrency: the second recomputes after the first and finds nothing to change.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
    )
    change = """mutation { changePlan(input: {product: "email", plan: "email-1500"}, confirmAmountDue: 1016) {
      __typename ... on UserError { code } } }"""
    first, second = await asyncio.gather(gql(change, as_user=owner), gql(change, as_user=owner))
    results = sorted(
        [first["data"]["changePlan"]["__typename"], second["data"]["changePlan"]["__typename"]]
    )
    assert results == ["PlanChangeApplied", "UserError"]
    assert await Invoice.filter(organization_id=organization.id).count() == 1
    assert await Payment.filter(invoice__organization_id=organization.id).count() == 1


@pytest.mark.usefixtures("database")
async def test_two_billing_clocks_at_once_renew_once() -> None:
    # DUN-1 under concurrency: the second clock finds the renewal done and charges nothing.
    organization, _ = await organization_with(
        [{"product": "store", "plan": "business"}],
        period=(SEEDED_AT - timedelta(days=31), SEEDED_AT - timedelta(hours=1)),
    )
    processor = SandboxProcessor()
    first, second = await asyncio.gather(
        run_due_work(SEEDED_AT, processor, organization.id),
        run_due_work(SEEDED_AT, processor, organization.id),
    )
    assert sorted([len(first), len(second)]) == [0, 1], (first, second)
    assert await Invoice.filter(organization_id=organization.id).count() == 1
    assert await Payment.filter(invoice__organization_id=organization.id).count() == 1
    await organization.refresh_from_db()
    assert isinstance(organization, Organization)
