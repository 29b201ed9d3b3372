"""Usage on an annual plan is counted and invoiced per billing month (USE-2, USE-3, USE-6, INV-4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from billing.periods import BillingInterval, shift_months
from billing.subscription_status import SubscriptionStatus
from models import Invoice, Notification, Subscription
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

START = SEEDED_AT - timedelta(days=10)  # 2 Mar 2026; the first billing month ends on 2 Apr
ANNUAL = (START, shift_months(START, 12))
RECORD = "mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename ... on UserError { message field } } }"
METER = (
    "query ($m: String) { organization { usage(month: $m) { used periodStart onDemandBlocks } } }"
)


def _contacts(prefix: str, count: int, first: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}{i}",
            "product": "messaging",
            "metric": "mac",
            "contactId": f"c{i}",
            **extra,
        }
        for i in range(first, first + count)
    ]


async def _record(gql: GraphQLClient, owner: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(RECORD, {"e": events}, as_user=owner))["data"][
        "recordUsage"
    ]
    return result


async def _meter(gql: GraphQLClient, owner: str, month: str | None = None) -> dict[str, Any]:
    body = await gql(METER, {"m": month}, as_user=owner)
    meters: list[dict[str, Any]] = body["data"]["organization"]["usage"]
    return meters[0]


async def test_annual_plan_gets_a_usage_invoice_every_billing_month(gql: GraphQLClient) -> None:
    # INV-4, USE-6: growth (1,000 MAC) paid yearly. 1,250 contacts in the first billing month
    # are 3 blocks, $30.00, invoiced when that month ends, not at the end of the year.
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=ANNUAL, interval=BillingInterval.ANNUAL
    )
    assert (await _record(gql, owner, _contacts("a", 1000)))["__typename"] == "UsageRecorded"
    assert (await _record(gql, owner, _contacts("b", 250, 1000)))["__typename"] == "UsageRecorded"
    assert (await _record(gql, owner, _contacts("c", 1000)))["__typename"] == "UsageRecorded"
    assert await _meter(gql, owner) == {
        "used": 1250,  # a contact seen again in the month counts once (USE-2)
        "periodStart": "2026-03-02T09:30:00+00:00",
        "onDemandBlocks": 3,
    }

    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)  # 2 Apr

    first = await Invoice.get(organization_id=organization.id, kind="USAGE")
    assert (first.total, first.status) == (3000, "PAID")
    assert (first.period_start, first.period_end) == (START, shift_months(START, 1))
    assert [line.description for line in await first.lines.all()] == [
        "On-demand: 3 blocks of 100 mac past 1,000 (Growth, 1,250 used)"
    ]
    assert not await Invoice.exists(organization_id=organization.id, kind="SUBSCRIPTION")
    subscription = await Subscription.get(organization_id=organization.id)
    assert (subscription.current_period_start, subscription.usage_closed_until) == (
        START,
        shift_months(START, 1),
    )

    # USE-2: the count starts again in the new billing month; March stays readable (USE-3).
    assert await _meter(gql, owner) == {
        "used": 0,
        "periodStart": "2026-04-02T09:30:00+00:00",
        "onDemandBlocks": 0,
    }
    assert (await _meter(gql, owner, "2026-03"))["used"] == 1250

    # An event of the invoiced month is refused, and nothing of its batch is recorded.
    late = await _record(
        gql,
        owner,
        [*_contacts("d", 2), *_contacts("late", 1, occurredAt="2026-04-01T10:00:00+00:00")],
    )
    assert late == {
        "__typename": "UserError",
        "message": "events[2].occurredAt: the billing month it belongs to is closed. "
        "Nothing in this batch was recorded.",
        "field": "events[2].occurredAt",
    }
    assert (await _meter(gql, owner))["used"] == 0

    # The second month: 1,100 of the same contacts are 1 block, on its own invoice.
    assert (await _record(gql, owner, _contacts("e", 1000)))["__typename"] == "UsageRecorded"
    assert (await _record(gql, owner, _contacts("f", 100, 1000)))["__typename"] == "UsageRecorded"

    await gql("mutation { advanceTestClock(days: 30) { events } }", as_user=owner)  # 2 May
    invoices = await Invoice.filter(organization_id=organization.id, kind="USAGE").order_by(
        "sequence"
    )
    assert [(i.total, i.period_start) for i in invoices] == [
        (3000, START),
        (1000, shift_months(START, 1)),
    ]
    # USE-4 thresholds are per billing month: 90 % and 100 % in March and again in April, each
    # time crossed by one batch, so one notice names both.
    notices = await Notification.filter(organization_id=organization.id, kind="USAGE_THRESHOLD")
    assert [n.message.rsplit("(", 1)[1] for n in notices] == [
        "100 %; the 90 % and 100 % thresholds reached).",
        "100 %; the 90 % and 100 % thresholds reached).",
    ]


async def test_a_month_without_blocks_has_no_usage_invoice(gql: GraphQLClient) -> None:
    # INV-4: a billing month within the limit closes with nothing to invoice.
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=ANNUAL, interval=BillingInterval.ANNUAL
    )
    await _record(gql, owner, _contacts("a", 900))
    body = await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    assert any(
        "usage month to 2 Apr 2026 closed" in event
        for event in body["data"]["advanceTestClock"]["events"]
    ), body
    assert not await Invoice.exists(organization_id=organization.id)
    assert (await _meter(gql, owner))["used"] == 0


async def test_the_last_month_of_a_cancelled_subscription_is_invoiced(gql: GraphQLClient) -> None:
    # CAN-1, INV-4: a subscription that ends still owes the blocks of its last billing month.
    period = (START, shift_months(START, 1))
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}],
        period=period,
        status=SubscriptionStatus.CANCELLING,
    )
    await Subscription.filter(organization_id=organization.id).update(cancel_at=period[1])
    assert (await _record(gql, owner, _contacts("a", 1000)))["__typename"] == "UsageRecorded"
    assert (await _record(gql, owner, _contacts("b", 150, 1000)))["__typename"] == "UsageRecorded"
    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    subscription = await Subscription.get(organization_id=organization.id)
    assert subscription.status is SubscriptionStatus.CANCELLED
    usage = await Invoice.get(organization_id=organization.id, kind="USAGE")
    assert (usage.total, usage.status, usage.period_end) == (2000, "PAID", period[1])


async def test_the_last_month_of_a_frozen_subscription_is_invoiced(gql: GraphQLClient) -> None:
    # DUN-3, INV-4: frozen for an unpaid invoice, the subscription is cancelled at the end of
    # the period; the blocks used before sending stopped are still invoiced.
    period = (START, shift_months(START, 1))
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=period
    )
    for batch in (_contacts("a", 1000), _contacts("b", 150, 1000)):
        assert (await _record(gql, owner, batch))["__typename"] == "UsageRecorded"
    await Subscription.filter(organization_id=organization.id).update(
        status=SubscriptionStatus.FROZEN
    )
    body = await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    subscription = await Subscription.get(organization_id=organization.id)
    assert subscription.status is SubscriptionStatus.CANCELLED, body
    usage = await Invoice.get(organization_id=organization.id, kind="USAGE")
    assert (usage.total, usage.period_start, usage.period_end) == (2000, period[0], period[1])


async def test_a_cancellation_extended_for_an_overdue_invoice_invoices_its_last_month(
    gql: GraphQLClient,
) -> None:
    # DUN-3, CAN-1, INV-4: an overdue invoice keeps the subscription one more period, frozen;
    # the month that ended is invoiced before the period moves on, and counting starts again.
    period = (START, shift_months(START, 1))
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}],
        period=period,
        status=SubscriptionStatus.CANCELLING,
    )
    await Subscription.filter(organization_id=organization.id).update(cancel_at=period[1])
    await Invoice.create(
        organization=organization,
        number="OVERDUE-1",
        sequence=0,
        kind="SUBSCRIPTION",
        status="OPEN",
        currency="USD",
        total=7900,
        amount_due=7900,
        issued_at=START,
        due_at=START,
    )
    for batch in (_contacts("a", 1000), _contacts("b", 150, 1000)):
        assert (await _record(gql, owner, batch))["__typename"] == "UsageRecorded"
    body = await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    events = body["data"]["advanceTestClock"]["events"]
    assert any("frozen at the end of the period, an invoice is overdue" in e for e in events)
    subscription = await Subscription.get(organization_id=organization.id)
    assert subscription.status is SubscriptionStatus.FROZEN
    usage = await Invoice.get(organization_id=organization.id, kind="USAGE")
    assert (usage.total, usage.period_end) == (2000, period[1])
    assert (await _meter(gql, owner))["used"] == 0
