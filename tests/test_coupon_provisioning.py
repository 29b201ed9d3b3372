"""createCoupon and createPromotionCode with a platform key of scope coupons:write (DSC-1,
ACC-6): checked, created once, recorded with their creator; then typed by a customer."""

from __future__ import annotations

from datetime import timedelta

import httpx

from models import Coupon, PromotionCode
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with
from tests.test_provisioning import answer, platform_key, run

PERCENT = {
    "code": "partner-15",
    "name": "Partner 15 % for 2 months",
    "duration": "REPEATING",
    "durationPeriods": 2,
    "percentOff": 15,
    "products": ["email"],
}


async def test_a_platform_key_creates_a_coupon_and_a_code_customers_use_rule_dsc_1(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    key = await platform_key("coupons:write")
    created = answer(await run(client, key, "CreateCoupon", {"input": PERCENT}), "createCoupon")
    coupon = created["coupon"]
    assert (coupon["code"], coupon["description"], coupon["percentOff"]) == (
        "partner-15",
        "15 % off",
        15,
    )
    assert coupon["createdBy"].startswith("API key ")
    code = {"code": "partner15", "coupon": "partner-15", "firstSubscriptionOnly": False}
    promotion = answer(
        await run(client, key, "CreatePromotionCode", {"input": code}), "createPromotionCode"
    )
    assert promotion["promotionCode"]["code"] == "PARTNER15"  # stored upper-case
    again = answer(
        await run(client, key, "CreatePromotionCode", {"input": {**code, "code": "Partner15"}}),
        "createPromotionCode",
    )
    assert again["code"] == "CODE_TAKEN"
    assert await PromotionCode.filter(code="PARTNER15").count() == 1

    # A customer on Email 1,000 applies it; 15 % of the 3000 renewal is 450.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
    )
    applied = await gql(
        'mutation { applyPromotionCode(code: "partner15") { __typename } }', as_user=owner
    )
    assert applied["data"]["applyPromotionCode"]["__typename"] == "DiscountApplied"
    draft = await gql(
        "{ organization { subscription { upcomingInvoice { lines { amount { amount }"
        " discount { amount } } total { amount } } } } }",
        as_user=owner,
    )
    upcoming = draft["data"]["organization"]["subscription"]["upcomingInvoice"]
    assert upcoming == {
        "lines": [{"amount": {"amount": 3000}, "discount": {"amount": 450}}],
        "total": {"amount": 2550},
    }


async def test_bad_coupons_are_refused_and_nothing_is_created_rule_dsc_1(
    client: httpx.AsyncClient,
) -> None:
    key = await platform_key("coupons:write")
    cases = [
        ({**PERCENT, "code": "both", "amountsOff": [{"currency": "USD", "amount": 100}]}, "input"),
        ({**PERCENT, "code": "too-much", "percentOff": 101}, "input.percentOff"),
        ({**PERCENT, "code": "no-product", "products": ["nope"]}, "input.products"),
        ({**PERCENT, "code": "Upper"}, "input.code"),
        (
            {
                **PERCENT,
                "code": "money",
                "percentOff": None,
                "amountsOff": [{"currency": "XXX", "amount": 100}],
            },
            "input.amountsOff",
        ),
        ({**PERCENT, "code": "once-periods", "duration": "ONCE"}, "input"),
    ]
    for wanted, field in cases:
        refused = answer(await run(client, key, "CreateCoupon", {"input": wanted}), "createCoupon")
        assert (refused["__typename"], refused["field"]) == ("UserError", field), wanted
        assert not await Coupon.exists(code=wanted["code"])
    unknown = answer(
        await run(client, key, "CreatePromotionCode", {"input": {"code": "X1", "coupon": "none"}}),
        "createPromotionCode",
    )
    assert unknown["field"] == "input.coupon"


async def test_creating_coupons_needs_the_scope_rule_acc_6(client: httpx.AsyncClient) -> None:
    key = await platform_key("organizations:write")
    body = await run(client, key, "CreateCoupon", {"input": {**PERCENT, "code": "scoped"}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not await Coupon.exists(code="scoped")
