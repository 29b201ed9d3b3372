"""Tier moves the billing clock makes by itself: auto-downgrade by profiles (PREF-3) and
autoscaling on the three-month average (PREF-4)."""

from __future__ import annotations

from datetime import timedelta

from billing.periods import BillingInterval
from models import Invoice, Notification, Product, Subscription, UsageCounter
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

ENDS_IN_2_DAYS = (SEEDED_AT - timedelta(days=29), SEEDED_AT + timedelta(days=2))
STATE = "{ organization { subscription { status items { plan { code } } } } }"


async def _state(gql: GraphQLClient, owner: str) -> tuple[str, str]:
    subscription = (await gql(STATE, as_user=owner))["data"]["organization"]["subscription"]
    return subscription["status"], subscription["items"][0]["plan"]["code"]


async def _advance(gql: GraphQLClient, owner: str, hours: int) -> list[str]:
    body = await gql(f"mutation {{ advanceTestClock(hours: {hours}) {{ events }} }}", as_user=owner)
    events: list[str] = body["data"]["advanceTestClock"]["events"]
    return events


async def _profiles(gql: GraphQLClient, owner: str, event_id: str, count: int) -> None:
    record = "mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename } }"
    await gql(
        record,
        {"e": [{"id": event_id, "product": "email", "metric": "profiles", "quantity": count}]},
        as_user=owner,
    )


async def test_auto_downgrade_24_hours_before_the_end(gql: GraphQLClient) -> None:
    # PREF-3: 400 profiles fit email-500: scheduled 24 hours before the end, effective after it.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "FLEXIBLE_OVERAGE"}],
        period=ENDS_IN_2_DAYS,
    )
    await gql(
        'mutation { setAutoDowngrade(product: "email", enabled: true) { __typename } }',
        as_user=owner,
    )
    await _profiles(gql, owner, "p1", 400)
    events = await _advance(gql, owner, 24)  # 24 hours before the end
    assert any("auto-downgrade to email-500 scheduled" in e for e in events)
    assert await _state(gql, owner) == ("DOWNGRADING", "email-1000")
    await _advance(gql, owner, 24)
    assert await _state(gql, owner) == ("ACTIVE", "email-500")


async def test_fewer_profiles_too_late_do_not_downgrade(gql: GraphQLClient) -> None:
    # PREF-3: reducing profiles less than 24 hours before the end does not trigger it.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}],
        period=ENDS_IN_2_DAYS,
    )
    await gql(
        'mutation { setAutoDowngrade(product: "email", enabled: true) { __typename } }',
        as_user=owner,
    )
    await _profiles(gql, owner, "p1", 640)
    events = await _advance(gql, owner, 24)
    assert any("no lower tier fits" in e for e in events)
    await _profiles(gql, owner, "p2", 400)  # 12 hours before the end: too late
    await _advance(gql, owner, 30)
    assert await _state(gql, owner) == ("ACTIVE", "email-1000")
    assert not await Notification.filter(
        organization_id=organization.id, kind="AUTO_DOWNGRADE"
    ).exists()


async def _history(
    organization_id: object, product_id: int, starts: list[object], values: list[int]
) -> None:
    for start, value in zip(starts, values, strict=True):
        await UsageCounter.create(
            organization_id=organization_id,
            product_id=product_id,
            metric="requests",
            period_start=start,
            workspace="*",
            value=value,
        )


async def test_autoscaling_on_the_average_not_a_spike(gql: GraphQLClient) -> None:
    # PREF-4: 9,000 / 9,000 / 40,000 requests (19,333 on average) move rec-10k to rec-50k at the
    # renewal; 8,000 / 9,000 / 13,000 (10,000 on average: a Black Friday spike) do not.
    product = await Product.get(code="recommendations")
    for values, expected in (
        ([9_000, 9_000, 40_000], "rec-50k"),
        ([8_000, 9_000, 13_000], "rec-10k"),
    ):
        organization, owner = await organization_with(
            [{"product": "recommendations", "plan": "rec-10k"}], period=ENDS_IN_2_DAYS
        )
        subscription = await Subscription.get(organization_id=organization.id)
        start = subscription.current_period_start
        await _history(
            organization.id,
            product.id,
            [start - timedelta(days=62), start - timedelta(days=31), start],
            values,
        )
        await _advance(gql, owner, 48)
        assert await _state(gql, owner) == ("ACTIVE", expected)
    notice = await Notification.filter(kind="AUTOSCALE").order_by("-created_at").first()
    assert notice is not None
    assert (
        notice.message
        == "Recommendations: 9,000 / 9,000 / 40,000 requests in the last three billing months, 19,333 on average: moved from rec-10k to rec-50k from this period."
    )


async def _renewal_notices(organization_id: object) -> list[str]:
    notices = await Notification.filter(
        organization_id=organization_id, kind="UPCOMING_RENEWAL"
    ).order_by("created_at")
    return [n.message for n in notices]


async def test_autoscaling_corrects_the_renewal_notice_rule_not_1_pref_4(
    gql: GraphQLClient,
) -> None:
    # rule NOT-1, PREF-4: rec-10k quarterly is $297.00; the notice says so and that autoscaling
    # may change it; at the renewal the three-month average moves it to rec-50k, $597.00, and a
    # corrected notice says what is charged before it is.
    product = await Product.get(code="recommendations")
    organization, owner = await organization_with(
        [{"product": "recommendations", "plan": "rec-10k"}],
        period=ENDS_IN_2_DAYS,
        interval=BillingInterval.QUARTERLY,
    )
    subscription = await Subscription.get(organization_id=organization.id)
    start = subscription.current_period_start
    await _history(
        organization.id,
        product.id,
        [start - timedelta(days=62), start - timedelta(days=31), start],
        [9_000, 9_000, 40_000],
    )
    await _advance(gql, owner, 48)
    renewal = await Invoice.get(organization_id=organization.id, kind="SUBSCRIPTION")
    assert renewal.total == 59700
    assert await _renewal_notices(organization.id) == [
        "Your subscription renews on 14 March 2026 for $297.00. Recommendations may move to the"
        " tier of its three-month average usage at the renewal; you will be told if the amount"
        " changes.",
        "Corrected: Recommendations autoscaled to rec-50k. Your subscription renews on"
        " 14 March 2026 for $597.00.",
    ]


async def test_auto_downgrade_corrects_the_renewal_notice_rule_not_1_pref_3(
    gql: GraphQLClient,
) -> None:
    # rule NOT-1, PREF-3: the week-ahead notice says $30.00 (email-1000); 24 hours before the
    # end 400 profiles fit email-500, so a corrected notice says $20.00, what is then charged.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "FLEXIBLE_OVERAGE"}],
        period=ENDS_IN_2_DAYS,
    )
    await gql(
        'mutation { setAutoDowngrade(product: "email", enabled: true) { __typename } }',
        as_user=owner,
    )
    await _profiles(gql, owner, "p1", 400)
    await _advance(gql, owner, 1)
    assert await _renewal_notices(organization.id) == [
        "Your subscription renews on 14 March 2026 for $30.00."
    ]
    await _advance(gql, owner, 47)
    assert await _renewal_notices(organization.id) == [
        "Your subscription renews on 14 March 2026 for $30.00.",
        "Corrected: Email moves down to email-500. Your subscription renews on 14 March 2026"
        " for $20.00.",
    ]
    renewal = await Invoice.get(organization_id=organization.id, kind="SUBSCRIPTION")
    assert renewal.total == 2000


async def test_the_renewal_notice_names_what_the_credit_balance_pays_rule_not_1_int_3(
    gql: GraphQLClient,
) -> None:
    # rule NOT-1, INT-3: $10.00 of credit pays part of the $30.00 renewal: $20.00 is charged.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}],
        period=ENDS_IN_2_DAYS,
        credit_balance=1000,
    )
    await _advance(gql, owner, 1)
    assert await _renewal_notices(organization.id) == [
        "Your subscription renews on 14 March 2026 for $30.00. Your credit balance pays $10.00"
        " of it: $20.00 will be charged."
    ]
    await _advance(gql, owner, 47)
    renewal = await Invoice.get(organization_id=organization.id, kind="SUBSCRIPTION")
    assert (renewal.total, renewal.credit_applied) == (3000, 1000)
