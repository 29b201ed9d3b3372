"""Upgrade preferences (PREF-1 to PREF-3), DUN-5's pause, and threshold notices (USE-4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import Organization, PaymentMethod
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
SET = """mutation ($p: String!, $pref: UpgradePreference!) { setUpgradePreference(product: $p, preference: $pref) {
  __typename ... on ProductPreferences { preference autoDowngrade } ... on UserError { code message } } }"""
AUTO = """mutation ($p: String!, $on: Boolean!) { setAutoDowngrade(product: $p, enabled: $on) {
  __typename ... on ProductPreferences { preference autoDowngrade } ... on UserError { message } } }"""


async def _set(gql: GraphQLClient, owner: str, product: str, preference: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(SET, {"p": product, "pref": preference}, as_user=owner))[
        "data"
    ]["setUpgradePreference"]
    return result


async def test_preferences_follow_what_each_product_offers(gql: GraphQLClient) -> None:
    _, owner = await organization_with(
        [
            {"product": "email", "plan": "email-1000"},
            {"product": "helpdesk", "plan": "helpdesk-basic"},
            {"product": "store", "plan": "business"},
        ],
        period=PERIOD,
    )
    assert (await _set(gql, owner, "email", "NONE"))["preference"] == "NONE"
    assert (
        "helpdesk offers AUTO_UPGRADE, FLEXIBLE_OVERAGE, not NONE (PREF-2)"
        in (await _set(gql, owner, "helpdesk", "NONE"))["message"]
    )
    assert (
        "store has no upgrade preference to choose"
        in (await _set(gql, owner, "store", "NONE"))["message"]
    )
    # PREF-3: auto-downgrade with NONE or FLEXIBLE_OVERAGE; choosing AUTO_UPGRADE switches it off.
    on = (await gql(AUTO, {"p": "email", "on": True}, as_user=owner))["data"]["setAutoDowngrade"]
    assert on == {"__typename": "ProductPreferences", "preference": "NONE", "autoDowngrade": True}
    assert (await _set(gql, owner, "email", "AUTO_UPGRADE")) == {
        "__typename": "ProductPreferences",
        "preference": "AUTO_UPGRADE",
        "autoDowngrade": False,
    }
    refused = (await gql(AUTO, {"p": "email", "on": True}, as_user=owner))["data"][
        "setAutoDowngrade"
    ]
    assert "not Auto-upgrade" in refused["message"]
    no_auto = (await gql(AUTO, {"p": "helpdesk", "on": True}, as_user=owner))["data"][
        "setAutoDowngrade"
    ]
    assert "has no auto-downgrade" in no_auto["message"]


async def test_automatic_charges_come_back_only_with_a_valid_card(gql: GraphQLClient) -> None:
    # DUN-5: after a card failure, auto-upgrade and flexible overage stay off until a billing
    # manager switches them on with a valid payment method.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD, card="pm_card_expired"
    )
    await Organization.filter(id=organization.id).update(automatic_charges_paused=True)
    await PaymentMethod.filter(organization_id=organization.id).update(exp_year=2020)
    refused = await _set(gql, owner, "email", "FLEXIBLE_OVERAGE")
    assert refused["code"] == "NO_PAYMENT_METHOD"
    await gql(
        'mutation { replacePaymentMethod(paymentMethodId: "pm_card_visa") { __typename } }',
        as_user=owner,
    )
    assert (await _set(gql, owner, "email", "FLEXIBLE_OVERAGE"))["preference"] == "FLEXIBLE_OVERAGE"
    assert (await Organization.get(id=organization.id)).automatic_charges_paused is False


async def test_threshold_notices_once_per_period(gql: GraphQLClient) -> None:
    # USE-4: email alerts at 75 % and 90 % of 10,000 emails, each once.
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    record = "mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename } }"
    for index, quantity in enumerate([7_000, 600, 1_000, 800, 50]):
        await gql(
            record,
            {
                "e": [
                    {
                        "id": f"e{index}",
                        "product": "email",
                        "metric": "emails",
                        "quantity": quantity,
                    }
                ]
            },
            as_user=owner,
        )
    notices = (await gql("{ organization { notifications { kind message } } }", as_user=owner))[
        "data"
    ]["organization"]["notifications"]
    usage = sorted(n["message"] for n in notices if n["kind"] == "USAGE_THRESHOLD")
    assert usage == [
        "Email: 7,600 of 10,000 emails used this billing month (76 %; the 75 % threshold reached).",
        "Email: 9,400 of 10,000 emails used this billing month (94 %; the 90 % threshold reached).",
    ]
