"""Fields the billing page needed (issue 14): the notice date a cancellation would have before it
is asked for (CAN-1, CAN-2), and what a flexible-overage purchase costs (PREF-1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import member_of, organization_with

NOTICE = "{ organization { subscription { status cancelAt cancellationDate } } }"
CANCEL = 'mutation { cancelSubscription(reason: "Too dear") { ... on SubscriptionCancelled { cancelAt } } }'
OVERAGES = """{ organization { subscription { items { product { code }
  flexibleOverages { metric volume amount { amount currency } } } } } }"""


@pytest.mark.parametrize(
    ("product", "plan", "days_left", "months_more"),
    [
        # CAN-1: END_OF_PERIOD ends with the current period.
        ("messaging", "growth", 21, 0),
        # CAN-2: MONTH_PLUS_REMAINDER early enough: this period's end.
        ("recommendations", "rec-10k", 40, 0),
        # CAN-2: less than a month and a day before the renewal: one more period.
        ("recommendations", "rec-10k", 20, 1),
    ],
)
async def test_cancellation_date_is_what_cancelling_sets_rule_can_1_can_2(
    gql: GraphQLClient, product: str, plan: str, days_left: int, months_more: int
) -> None:
    end = SEEDED_AT + timedelta(days=days_left)
    organization, owner = await organization_with(
        [{"product": product, "plan": plan}], period=(end - timedelta(days=30), end)
    )
    member = await member_of(organization)
    before = (await gql(NOTICE, as_user=member))["data"]["organization"]["subscription"]
    assert before["status"] == "ACTIVE" and before["cancelAt"] is None
    wanted = end.replace(month=end.month + months_more) if months_more else end
    assert before["cancellationDate"] == wanted.isoformat()

    cancelled = await gql(CANCEL, as_user=owner)
    assert cancelled["data"]["cancelSubscription"]["cancelAt"] == before["cancellationDate"]
    after = (await gql(NOTICE, as_user=member))["data"]["organization"]["subscription"]
    assert after["status"] == "CANCELLING"
    assert after["cancellationDate"] is None  # cannot be cancelled twice


async def test_flexible_overages_cost_the_next_tiers_volume_at_this_tiers_rate_rule_pref_1(
    gql: GraphQLClient,
) -> None:
    end = SEEDED_AT + timedelta(days=20)
    organization, owner = await organization_with(
        [
            {"product": "email", "plan": "email-500"},
            {"product": "messaging", "plan": "growth"},
        ],
        period=(end - timedelta(days=30), end),
    )
    body = await gql(OVERAGES, as_user=owner)
    items = {
        i["product"]["code"]: i["flexibleOverages"]
        for i in body["data"]["organization"]["subscription"]["items"]
    }
    # email-500 ($20) to email-1000: 500 more profiles or 5,000 more e-mails, $20.00 each.
    assert items["email"] == [
        {"metric": "emails", "volume": 5000, "amount": {"amount": 2000, "currency": "USD"}},
        {"metric": "profiles", "volume": 500, "amount": {"amount": 2000, "currency": "USD"}},
    ]
    assert items["messaging"] == []  # ON_DEMAND only

    member = await member_of(organization)
    refused = await gql(OVERAGES, as_user=member)
    assert refused["data"]["organization"]["subscription"]["items"][0]["flexibleOverages"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
