"""The usage walks of the metering issue: email (PREF-1, USE-4) and messaging (USE-6, CHG-4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from models import Invoice, Notification, OveragePurchase
from resolvers import usage as usage_module
from resolvers import usage_actions
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
RECORD = "mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename ... on UserError { message } } }"
PLAN = "{ organization { subscription { items { plan { code } } } } }"


async def _emails(gql: GraphQLClient, owner: str, prefix: str, quantity: int) -> None:
    body = await gql(
        RECORD,
        {"e": [{"id": prefix, "product": "email", "metric": "emails", "quantity": quantity}]},
        as_user=owner,
    )
    assert body["data"]["recordUsage"]["__typename"] == "UsageRecorded", body


async def _plan(gql: GraphQLClient, owner: str) -> str:
    items: list[dict[str, Any]] = (await gql(PLAN, as_user=owner))["data"]["organization"][
        "subscription"
    ]["items"]
    return str(items[0]["plan"]["code"])


async def test_email_auto_upgrade_at_the_limit(gql: GraphQLClient) -> None:
    # PREF-1 AUTO_UPGRADE: past 10,000 emails on email-1000, the plan becomes email-1500 and the
    # difference for the rest of the period is charged (21 of 31 days: -$20.32 + $30.48).
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "AUTO_UPGRADE"}],
        period=PERIOD,
    )
    await _emails(gql, owner, "a", 10_000)
    assert await _plan(gql, owner) == "email-1000"  # at the limit, not past it
    await _emails(gql, owner, "b", 1)
    assert await _plan(gql, owner) == "email-1500"
    invoice = await Invoice.get(organization_id=organization.id, kind="PLAN_CHANGE")
    assert (invoice.amount_due, invoice.status) == (1016, "PAID")
    assert (
        await Notification.filter(organization_id=organization.id, kind="AUTO_UPGRADE").count() == 1
    )


async def test_email_flexible_overage_twice_in_a_period(gql: GraphQLClient) -> None:
    # PREF-1 FLEXIBLE_OVERAGE on email-500: 5,000 more emails at $0.004 = $20.00, bought twice;
    # the plan does not change.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-500", "upgrade_preference": "FLEXIBLE_OVERAGE"}],
        period=PERIOD,
    )
    await _emails(gql, owner, "a", 5_001)
    await _emails(gql, owner, "b", 4_999)  # 10,000: within the 5,000 bought
    await _emails(gql, owner, "c", 1)
    charges = await Invoice.filter(organization_id=organization.id, kind="USAGE").order_by(
        "sequence"
    )
    assert [(i.amount_due, i.status) for i in charges] == [(2000, "PAID"), (2000, "PAID")]
    assert [p.volume for p in await OveragePurchase.filter(organization_id=organization.id)] == [
        5000,
        5000,
    ]
    assert await _plan(gql, owner) == "email-500"


async def test_the_highest_tier_is_told_once_a_month_and_then_gated(gql: GraphQLClient) -> None:
    # PREF-1, USE-5, NOT-1: email-2500 has no next tier to move to or buy volume from. Past its
    # 25,000 emails, billing managers are told once per billing month (not once per batch),
    # nothing is charged, and the gate stops sending until the next month.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-2500", "upgrade_preference": "AUTO_UPGRADE"}],
        period=PERIOD,
    )
    gate = '{ usageGate(product: "email", metric: "emails") { allowed reason used } }'
    await _emails(gql, owner, "a", 25_000)
    assert (await gql(gate, as_user=owner))["data"]["usageGate"]["allowed"] is False
    for batch in "bcd":
        await _emails(gql, owner, batch, 10)
    notices = await Notification.filter(organization_id=organization.id, kind="LIMIT_REACHED")
    assert [n.message for n in notices] == [
        "Email 2,500 is the highest tier and its 25,000 emails are used this billing month: "
        "more waits for the next month."
    ]
    assert await Invoice.filter(organization_id=organization.id, kind="PLAN_CHANGE").count() == 0
    assert await _plan(gql, owner) == "email-2500"
    assert (await gql(gate, as_user=owner))["data"]["usageGate"] == {
        "allowed": False,
        "reason": "LIMIT_REACHED",
        "used": 25_030,
    }
    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)  # a new month
    assert (await gql(gate, as_user=owner))["data"]["usageGate"]["allowed"] is True
    await _emails(gql, owner, "e", 25_001)
    await _emails(gql, owner, "f", 1)
    assert (
        await Notification.filter(organization_id=organization.id, kind="LIMIT_REACHED").count()
        == 2
    )


async def test_email_none_blocks_until_the_next_period(gql: GraphQLClient) -> None:

    # PREF-1 NONE and USE-4: one notice at 75 % and one at 90 %; at the limit the gate says no.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-500", "upgrade_preference": "NONE"}], period=PERIOD
    )
    for index, quantity in enumerate([3_750, 500, 750]):
        await _emails(gql, owner, f"n{index}", quantity)
    gate = '{ usageGate(product: "email", metric: "emails") { allowed reason used limit } }'
    assert (await gql(gate, as_user=owner))["data"]["usageGate"] == {
        "allowed": False,
        "reason": "LIMIT_REACHED",
        "used": 5000,
        "limit": 5000,
    }
    notices = await Notification.filter(
        organization_id=organization.id, kind="USAGE_THRESHOLD"
    ).order_by("created_at")
    assert ["75 %" in n.message for n in notices] == [True, False] and len(notices) == 2
    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)  # a new period
    assert (await gql(gate, as_user=owner))["data"]["usageGate"]["allowed"] is True


async def test_messaging_on_demand_blocks_on_the_usage_invoice(gql: GraphQLClient) -> None:
    # USE-6, INV-4: growth's 1,000 MAC and 1,250 distinct contacts: 3 blocks of 100 at $10.00 = $30.00 on
    # the usage invoice at the end of the period; notices at 90 % and 100 % (USE-4).
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=PERIOD
    )
    contacts = [
        {"id": f"m{i}", "product": "messaging", "metric": "mac", "contactId": f"c{i}"}
        for i in range(1250)
    ]
    assert (await gql(RECORD, {"e": contacts[:1000]}, as_user=owner))["data"]["recordUsage"][
        "__typename"
    ] == "UsageRecorded"
    await gql(RECORD, {"e": contacts[1000:]}, as_user=owner)
    meter = "{ organization { usage { metric used onDemandBlocks onDemandCost { formatted } } } }"
    seen = (await gql(meter, as_user=owner))["data"]["organization"]["usage"]
    assert seen == [
        {
            "metric": "mac",
            "used": 1250,
            "onDemandBlocks": 3,
            "onDemandCost": {"formatted": "$30.00"},
        }
    ]
    gate = '{ usageGate(product: "messaging", metric: "mac") { allowed reason } }'

    assert (await gql(gate, as_user=owner))["data"]["usageGate"] == {
        "allowed": True,
        "reason": "ALLOWED",
    }
    notices = [
        n.message
        for n in await Notification.filter(
            organization_id=organization.id, kind="USAGE_THRESHOLD"
        ).order_by("created_at")
    ]
    assert notices == [  # USE-4: the first batch crossed both thresholds: one notice
        "Messaging: 1,000 of 1,000 mac used this billing month (100 %; the 90 % and 100 %"
        " thresholds reached)."
    ]
    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    usage = await Invoice.get(organization_id=organization.id, kind="USAGE")
    assert (usage.total, usage.status) == (3000, "PAID")
    lines = await usage.lines.all()
    assert lines[0].description == "On-demand: 3 blocks of 100 mac past 1,000 (Growth, 1,250 used)"


async def test_messaging_upgrade_over_the_limit_invoices_the_blocks_at_once(
    gql: GraphQLClient,
) -> None:
    # CHG-4: the upgrade starts a new period now, so the blocks of the period it ends are billed
    # with it: -$107.71 unused Growth + $279.00 Advanced + $30.00 blocks.
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=PERIOD
    )
    contacts = [
        {"id": f"m{i}", "product": "messaging", "metric": "mac", "contactId": f"c{i}"}
        for i in range(1250)
    ]
    await gql(RECORD, {"e": contacts[:1000]}, as_user=owner)
    await gql(RECORD, {"e": contacts[1000:]}, as_user=owner)
    preview = (
        await gql(
            '{ previewPlanChange(input: {product: "messaging", plan: "advanced"}) { amountDueNow { amount } lines { description amount { amount } } } }',
            as_user=owner,
        )
    )["data"]["previewPlanChange"]
    assert [line["amount"]["amount"] for line in preview["lines"]] == [-10771, 27900, 3000]
    assert preview["amountDueNow"]["amount"] == 20129
    body = await gql(
        'mutation { changePlan(input: {product: "messaging", plan: "advanced"}, confirmAmountDue: 20129) { __typename } }',
        as_user=owner,
    )
    assert body["data"]["changePlan"]["__typename"] == "PlanChangeApplied"
    meters = (await gql("{ organization { usage { metric used } } }", as_user=owner))["data"][
        "organization"
    ]["usage"]
    assert meters == [{"metric": "mac", "used": 0}]  # the new period counts afresh
    assert await Invoice.filter(organization_id=organization.id).count() == 1


async def test_flexible_overage_within_the_volume_bought_does_not_act_again(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PREF-1 FLEXIBLE_OVERAGE: once 5,000 more emails are bought, batches within them neither buy
    # again nor run the automatic-action transaction (which waits for the exclusive lock).
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-500", "upgrade_preference": "FLEXIBLE_OVERAGE"}],
        period=PERIOD,
    )
    actions: list[usage_actions.LimitsTouched] = []
    original = usage_actions.act_on_limits_recorded

    async def counted(
        organization_id: UUID, touched: usage_actions.LimitsTouched, *rest: Any
    ) -> None:
        actions.append(touched)
        await original(organization_id, touched, *rest)

    monkeypatch.setattr(usage_module, "act_on_limits_recorded", counted)
    await _emails(gql, owner, "a", 5_001)
    await _emails(gql, owner, "b", 100)
    await _emails(gql, owner, "c", 4_899)  # 10,000: the last of the volume bought
    assert len(actions) == 1
    await _emails(gql, owner, "d", 1)
    assert len(actions) == 2
    assert await OveragePurchase.filter(organization_id=organization.id).count() == 2


async def test_flexible_overage_not_bought_after_a_batch_is_bought_at_the_month_close(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PREF-1, INV-4: the purchase runs after the batch is committed. If it fails unexpectedly
    # (here: it raises), the batch is still recorded, and the month's close buys what is owed.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-500", "upgrade_preference": "FLEXIBLE_OVERAGE"}],
        period=PERIOD,
    )

    async def broken(*_: Any) -> None:
        raise RuntimeError("the process stopped")

    monkeypatch.setattr(usage_module, "act_on_limits_recorded", broken)
    await _emails(gql, owner, "a", 5_001)
    assert not await OveragePurchase.exists(organization_id=organization.id)
    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    purchases = await OveragePurchase.filter(organization_id=organization.id)
    assert [(p.volume, p.amount, p.period_start) for p in purchases] == [(5000, 2000, PERIOD[0])]
    charges = await Invoice.filter(organization_id=organization.id, kind="USAGE")
    assert [(i.amount_due, i.status) for i in charges] == [(2000, "PAID")]
