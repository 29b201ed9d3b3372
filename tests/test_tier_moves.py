"""Tier moves the billing clock makes by itself: auto-downgrade by profiles (PREF-3) and
autoscaling on the three-month average (PREF-4)."""

from __future__ import annotations

from datetime import timedelta

from models import Notification, Product, Subscription, UsageCounter
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
