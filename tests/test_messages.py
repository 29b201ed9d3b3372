"""Messages a person reads and can act on: refusals name what to do instead (SUB-3, CHG-10,
CHG-11, CAT-4, CAT-5, NOT-1, ACC-3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from models import Subscription
from tests.conftest import GraphQLClient
from tests.factories import organization_with, state_of

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
CHANGE = """mutation ($input: PlanChangeInput!) { changePlan(input: $input, confirmAmountDue: 0) {
  __typename ... on UserError { code message field } } }"""
PREVIEW = "query ($input: PlanChangeInput!) { previewPlanChange(input: $input) { blockers { code message } } }"
CANCEL = 'mutation { cancelSubscription(reason: "Closing the shop") { __typename ... on UserError { code message } } }'
MARKETING_STARTER = {"product": "marketing", "plan": "starter", "contact_limit": 1000, "seats": 1}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (  # rule CAT-4
            {"product": "email", "addOns": ["sms"]},
            "addOns",
            "This product has no add-ons: leave addOns out or send an empty list.",
        ),
        (  # rule CHG-11
            {"product": "email", "contactLimit": 2500},
            "contactLimit",
            "This product has no contact-limit ladder: leave contactLimit out.",
        ),
        (  # rule CAT-5
            {"product": "email", "bundle": "marketing_sales"},
            "bundle",
            "This product is not sold in a bundle: leave bundle out.",
        ),
    ],
)
async def test_a_product_without_the_option_says_so_rule_cat_4_chg_11_cat_5(
    gql: GraphQLClient, change: dict[str, Any], field: str, message: str
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    before = await state_of(organization)
    body = await gql(CHANGE, {"input": change}, as_user=owner)
    assert body["data"]["changePlan"] == {
        "__typename": "UserError",
        "code": "BAD_USER_INPUT",
        "message": message,
        "field": field,
    }
    assert await state_of(organization) == before


async def test_one_seat_is_singular_rule_chg_10(gql: GraphQLClient) -> None:
    # rule CHG-10: marketing Starter has at most one seat.
    _, owner = await organization_with([MARKETING_STARTER], period=PERIOD)
    body = await gql(PREVIEW, {"input": {"product": "marketing", "seats": 2}}, as_user=owner)
    assert body["data"]["previewPlanChange"]["blockers"] == [
        {
            "code": "TOO_MANY_SEATS",
            "message": "Starter allows at most 1 seat: choose fewer seats or a higher plan.",
        }
    ]


async def test_cancelling_twice_names_the_date_and_the_way_back_rule_sub_3(
    gql: GraphQLClient,
) -> None:
    # rule SUB-3, CAN-1: the second request is refused and changes nothing.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    assert (await gql(CANCEL, as_user=owner))["data"]["cancelSubscription"][
        "__typename"
    ] == "SubscriptionCancelled"
    before = await state_of(organization)
    body = await gql(CANCEL, as_user=owner)
    assert body["data"]["cancelSubscription"] == {
        "__typename": "UserError",
        "code": "BAD_USER_INPUT",
        "message": "The subscription is already being cancelled (on 2026-04-02): reactivate it"
        " to keep it.",
    }
    assert await state_of(organization) == before
    assert (await Subscription.get(organization_id=organization.id)).status == "CANCELLING"


async def test_notifications_are_for_owners_and_billing_admins_rule_not_1(
    gql: GraphQLClient,
) -> None:
    # rule NOT-1, ACC-3: a member is told who reads notices.
    body = await gql(
        "query { organization { name notifications { kind } } }", as_user="member@acme.test"
    )
    assert body["data"]["organization"] == {"name": "Acme", "notifications": None}
    assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        (
            "FORBIDDEN",
            "Notifications are for the organization's owner and billing admins: ask one of them,"
            " or ask the owner for the billing admin role.",
        )
    ]
