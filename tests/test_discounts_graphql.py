"""Coupons and promotion codes through the real ASGI app (rules DSC-1, DSC-2, MNY-2): what the
preview shows is what the invoice charges, and both equal an independent calculation with exact
fractions written in the test; refused codes change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from billing.clock import FixedClock
from billing.discounts import CouponDuration
from models import Coupon, Invoice, PromotionCode, Redemption, SubscriptionDiscount
from tests.conftest import SEEDED_AT, GraphQLClient, error_codes
from tests.factories import organization_with

MONEY = "{ amount }"
LINES = f"lines {{ description amount {MONEY} discount {MONEY} }}"
PREVIEW = f"""query ($input: PlanChangeInput!, $code: String) {{
  previewPlanChange(input: $input, promotionCode: $code) {{
    amountDueNow {MONEY} total {MONEY} discountTotal {MONEY} {LINES} blockers {{ code }} }} }}"""
PREVIEW_CREDIT = f"""query ($input: PlanChangeInput!) {{ previewPlanChange(input: $input) {{
  amountDueNow {MONEY} total {MONEY} {LINES} creditNote {{ total {MONEY} }} }} }}"""
INVOICE = f"invoice {{ status total {MONEY} discountTotal {MONEY} amountDue {MONEY} {LINES} }}"
APPLIED = (
    f"""__typename ... on PlanChangeApplied {{ {INVOICE} }} ... on UserError {{ code message }}"""
)
SUBSCRIBE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!, $code: String) {{
  subscribe(input: $input, confirmAmountDue: $confirm, promotionCode: $code) {{ {APPLIED} }} }}"""
CHANGE = f"""mutation ($input: PlanChangeInput!, $confirm: Int!, $code: String) {{
  changePlan(input: $input, confirmAmountDue: $confirm, promotionCode: $code) {{ {APPLIED} }} }}"""
APPLY = """mutation ($code: String!) { applyPromotionCode(code: $code) { __typename
  ... on DiscountApplied { subscription { discount { coupon promotionCode periodsLeft } } }
  ... on UserError { code message field } } }"""
REMOVE = """mutation { removeDiscount { __typename ... on DiscountRemoved {
  subscription { discount { coupon } } } ... on UserError { code } } }"""
SUBSCRIPTION = f"""{{ organization {{ subscription {{ status currentPeriodStart currentPeriodEnd
  discount {{ coupon name description promotionCode percentOff amountOff {MONEY} duration
    periodsLeft }}
  upcomingInvoice {{ total {MONEY} discountTotal {MONEY} {LINES} }} }} }} }}"""
INVOICES = f"""{{ organization {{ invoices {{ edges {{ node {{ kind total {MONEY}
  discountTotal {MONEY} amountDue {MONEY} {LINES} }} }} }} }} }}"""
ADVANCE = "mutation ($days: Int!) { advanceTestClock(days: $days) { events } }"


def half_away(value: Fraction) -> int:
    """MNY-2, independently of billing/: halves away from zero."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    return sign * (whole + (1 if magnitude - whole >= Fraction(1, 2) else 0))


def seconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds())


@pytest.fixture
def clock_at(clock: FixedClock) -> Iterator[FixedClock]:
    yield clock
    clock.set(SEEDED_AT)


async def _coupon(code: str, promotion: str, **fields: Any) -> None:
    coupon = await Coupon.create(code=code, name=code, **fields)
    await PromotionCode.create(code=promotion, coupon=coupon)


def _pairs(lines: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(line["amount"]["amount"], line["discount"]["amount"]) for line in lines]


async def _subscription(gql: GraphQLClient, user: str) -> dict[str, Any]:
    body = await gql(SUBSCRIPTION, as_user=user)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["organization"]["subscription"]
    return result


async def _invoices(gql: GraphQLClient, user: str) -> list[dict[str, Any]]:
    body = await gql(INVOICES, as_user=user)
    return [edge["node"] for edge in body["data"]["organization"]["invoices"]["edges"]]


async def _advance(gql: GraphQLClient, user: str, days: int) -> None:
    body = await gql(ADVANCE, {"days": days}, as_user=user)
    assert "errors" not in body, body


async def test_twenty_percent_for_three_months_on_a_mid_period_upgrade_rule_dsc_1_dsc_2(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    """Subscribed with SPRING20 (typed in lower case), upgraded 10 days in, then renewed: the
    preview equals the invoice charged, and the coupon lasts three periods, no more."""
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=14), SEEDED_AT),
        status="TRIALING",  # type: ignore[arg-type]
        trial_ends_at=SEEDED_AT + timedelta(days=3),
    )
    item = {"product": "email", "plan": "email-1000"}
    # Period 1 (12 Mar to 12 Apr): 3000 - 20 % = 3000 - 600.
    first = half_away(Fraction(3000 * 20, 100))
    assert first == 600
    preview = (await gql(PREVIEW, {"input": item, "code": "spring20"}, as_user=owner))["data"]
    assert _pairs(preview["previewPlanChange"]["lines"]) == [(3000, 600)]
    assert preview["previewPlanChange"]["amountDueNow"]["amount"] == 2400
    subscribed = await gql(
        SUBSCRIBE, {"input": item, "confirm": 2400, "code": "spring20"}, as_user=owner
    )
    invoice = subscribed["data"]["subscribe"]["invoice"]
    assert (_pairs(invoice["lines"]), invoice["amountDue"]["amount"]) == ([(3000, 600)], 2400)
    state = await _subscription(gql, owner)
    assert state["discount"] == {
        "coupon": "spring20",
        "name": "20 % off for 3 months",
        "description": "20 % off",
        "promotionCode": "SPRING20",
        "percentOff": 20,
        "amountOff": None,
        "duration": "REPEATING",
        "periodsLeft": 3,
    }
    start = datetime.fromisoformat(state["currentPeriodStart"])
    end = datetime.fromisoformat(state["currentPeriodEnd"])
    assert (start, end) == (SEEDED_AT, datetime(2026, 4, 12, 9, 30, tzinfo=UTC))

    # 10 days in: Email 1,500. 21 of 31 days left.
    await _advance(gql, owner, 10)
    left = Fraction(seconds(start + timedelta(days=10), end), seconds(start, end))
    assert left == Fraction(21, 31)
    unused, remaining = half_away(-3000 * left), half_away(4500 * left)
    unused_off, remaining_off = (
        half_away(unused * Fraction(20, 100)),
        half_away(remaining * Fraction(20, 100)),
    )
    expected = [(unused, unused_off), (remaining, remaining_off)]
    assert expected == [(-2032, -406), (3048, 610)]
    due = unused - unused_off + remaining - remaining_off
    assert due == 812
    upgrade = {"product": "email", "plan": "email-1500"}
    preview = (await gql(PREVIEW, {"input": upgrade}, as_user=owner))["data"]["previewPlanChange"]
    assert _pairs(preview["lines"]) == expected
    assert (preview["amountDueNow"]["amount"], preview["discountTotal"]["amount"]) == (812, 204)
    changed = await gql(CHANGE, {"input": upgrade, "confirm": 812}, as_user=owner)
    charged = changed["data"]["changePlan"]["invoice"]
    assert (_pairs(charged["lines"]), charged["amountDue"]["amount"]) == (expected, 812)
    assert charged["status"] == "PAID"

    # Renewals: periods 2 and 3 discounted (4500 - 900), period 4 at the list price.
    renewal_off = half_away(Fraction(4500 * 20, 100))
    for days, (amount, discount), periods_left in (
        (21, (4500, renewal_off), 2),
        (30, (4500, renewal_off), 1),
        (31, (4500, 0), None),
    ):
        draft = (await _subscription(gql, owner))["upcomingInvoice"]
        assert _pairs(draft["lines"]) == [(amount, discount)]
        await _advance(gql, owner, days)
        issued = (await _invoices(gql, owner))[0]
        assert issued["kind"] == "SUBSCRIPTION"
        assert _pairs(issued["lines"]) == [(amount, discount)]
        assert issued["amountDue"]["amount"] == amount - discount
        assert (issued["total"], issued["discountTotal"]) == (
            draft["total"],
            draft["discountTotal"],
        )
        discount_state = (await _subscription(gql, owner))["discount"]
        assert (discount_state or {}).get("periodsLeft") == periods_left
    assert renewal_off == 900


async def test_ten_dollars_fixed_split_over_lines_and_capped_at_a_small_line_rule_dsc_2(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    """TENOFF ($10, once): split in proportion over three lines at subscribe, the rounding
    remainder on the largest; then, on a small upgrade line, never more than the line."""
    _, owner = await organization_with(
        [
            {"product": "email", "plan": "email-1000"},
            {"product": "helpdesk", "plan": "helpdesk-basic"},
            {"product": "store", "plan": "venture"},
        ],
        period=(SEEDED_AT - timedelta(days=14), SEEDED_AT),
        status="TRIALING",  # type: ignore[arg-type]
        trial_ends_at=SEEDED_AT + timedelta(days=3),
    )
    amounts = [3000, 2500, 2500]  # email, helpdesk, store; 8000 in all
    shares = [half_away(Fraction(1000 * a, sum(amounts))) for a in amounts]
    assert shares == [375, 313, 313]  # 1001: one cent too many, off the largest line
    shares[0] -= sum(shares) - 1000
    expected = list(zip(amounts, shares, strict=True))
    assert expected == [(3000, 374), (2500, 313), (2500, 313)]
    item = {"product": "email", "plan": "email-1000"}
    preview = (await gql(PREVIEW, {"input": item, "code": "TenOff"}, as_user=owner))["data"]
    assert _pairs(preview["previewPlanChange"]["lines"]) == expected
    assert preview["previewPlanChange"]["amountDueNow"]["amount"] == 7000
    subscribed = await gql(
        SUBSCRIBE, {"input": item, "confirm": 7000, "code": "TenOff"}, as_user=owner
    )
    invoice = subscribed["data"]["subscribe"]["invoice"]
    assert (_pairs(invoice["lines"]), invoice["amountDue"]["amount"]) == (expected, 7000)
    assert invoice["discountTotal"]["amount"] == 1000

    # The $10 is for the period: spent at subscribe, nothing is left for a change in it.
    await _advance(gql, owner, 29)  # 2 of 31 days left
    left = Fraction(2, 31)
    lines = [half_away(-2500 * left), half_away(6000 * left)]  # helpdesk basic -> pro
    assert lines == [-161, 387]
    upgrade = {"product": "helpdesk", "plan": "helpdesk-pro"}
    preview = (await gql(PREVIEW, {"input": upgrade}, as_user=owner))["data"]["previewPlanChange"]
    assert _pairs(preview["lines"]) == [(-161, 0), (387, 0)]


async def test_fixed_coupon_larger_than_a_small_line_takes_the_line_only_rule_dsc_2(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    """A $10-for-ever coupon applied mid-period, then a small upgrade two days before the
    period ends: the charge line (2.90) is discounted whole, not more; the credit stays, on a
    credit note (CRN-1): with nothing left to charge, the invoice's total would be negative."""
    await _coupon(
        "ten-forever", "TENFOREVER", duration=CouponDuration.FOREVER, amounts_off={"USD": 1000}
    )
    period = (datetime(2026, 2, 12, 9, 30, tzinfo=UTC), datetime(2026, 3, 15, 9, 30, tzinfo=UTC))
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=period)
    applied = (await gql(APPLY, {"code": "tenforever"}, as_user=owner))["data"]
    assert applied["applyPromotionCode"]["__typename"] == "DiscountApplied"
    await _advance(gql, owner, 1)  # 13 Mar: 2 days of 31 left
    left = Fraction(seconds(datetime(2026, 3, 13, 9, 30, tzinfo=UTC), period[1]), 31 * 86400)
    unused, remaining = half_away(-3000 * left), half_away(4500 * left)
    assert (unused, remaining) == (-194, 290)
    # CRN-1: the $1.94 credit goes to a credit note (and the credit balance); the invoice keeps
    # the discounted charge, $0.00 (before credit notes: a -$1.94 invoice with both lines).
    expected = [(remaining, min(1000, remaining))]
    upgrade = {"product": "email", "plan": "email-1500"}
    preview = (await gql(PREVIEW_CREDIT, {"input": upgrade}, as_user=owner))["data"][
        "previewPlanChange"
    ]
    assert _pairs(preview["lines"]) == expected
    assert (preview["total"]["amount"], preview["amountDueNow"]["amount"]) == (0, 0)
    assert preview["creditNote"]["total"]["amount"] == -unused == 194
    changed = await gql(CHANGE, {"input": upgrade, "confirm": 0}, as_user=owner)
    invoice = changed["data"]["changePlan"]["invoice"]
    assert (_pairs(invoice["lines"]), invoice["amountDue"]["amount"]) == (expected, 0)
    assert invoice["total"]["amount"] == 0


async def test_promotion_code_refused_the_second_time_changes_nothing_rule_dsc_1(
    gql: GraphQLClient,
) -> None:
    period = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=period
    )
    first = (await gql(APPLY, {"code": "SPRING20"}, as_user=owner))["data"]["applyPromotionCode"]
    assert first["subscription"]["discount"] == {
        "coupon": "spring20",
        "promotionCode": "SPRING20",
        "periodsLeft": 3,
    }
    again = (await gql(APPLY, {"code": "spring20"}, as_user=owner))["data"]["applyPromotionCode"]
    assert again["code"] == "PROMOTION_CODE_ALREADY_USED"
    removed = (await gql(REMOVE, as_user=owner))["data"]["removeDiscount"]
    assert removed == {"__typename": "DiscountRemoved", "subscription": {"discount": None}}
    redemptions = await Redemption.filter(organization_id=organization.id).count()
    third = (await gql(APPLY, {"code": "Spring20"}, as_user=owner))["data"]["applyPromotionCode"]
    assert (third["code"], third["field"]) == ("PROMOTION_CODE_ALREADY_USED", "promotionCode")
    assert "already used" in third["message"]
    assert await Redemption.filter(organization_id=organization.id).count() == redemptions
    assert not await SubscriptionDiscount.exists(organization_id=organization.id)
    nothing = (await gql(REMOVE, as_user=owner))["data"]["removeDiscount"]
    assert nothing == {"__typename": "UserError", "code": "NO_DISCOUNT"}


@pytest.mark.parametrize(
    ("code", "coupon", "reason"),
    [
        (
            "EXPIRED1",
            {"percent_off_bp": 1000, "expires_at": datetime(2026, 3, 1, tzinfo=UTC)},
            "PROMOTION_CODE_EXPIRED",
        ),
        ("FULL1", {"percent_off_bp": 1000, "max_redemptions": 0}, "PROMOTION_CODE_LIMIT_REACHED"),
        (
            "SMSONLY1",
            {"percent_off_bp": 1000, "products": ["messaging"]},
            "PROMOTION_CODE_NOT_APPLICABLE",
        ),
        ("NOSUCHCODE", None, "UNKNOWN_PROMOTION_CODE"),
    ],
)
async def test_bad_codes_are_clear_errors_that_change_nothing_rule_dsc_1(
    gql: GraphQLClient, code: str, coupon: dict[str, Any] | None, reason: str
) -> None:
    if coupon is not None:
        await _coupon(code.lower(), code, duration=CouponDuration.ONCE, **coupon)
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=14), SEEDED_AT),
        status="TRIALING",  # type: ignore[arg-type]
        trial_ends_at=SEEDED_AT + timedelta(days=3),
    )
    item = {"product": "email", "plan": "email-1000"}
    preview = await gql(PREVIEW, {"input": item, "code": code}, as_user=owner)
    assert error_codes(preview) == ["BAD_USER_INPUT"]
    assert preview["errors"][0]["extensions"]["reason"] == reason
    assert preview["errors"][0]["extensions"]["field"] == "promotionCode"
    subscribed = await gql(SUBSCRIBE, {"input": item, "confirm": 3000, "code": code}, as_user=owner)
    assert subscribed["data"]["subscribe"]["code"] == reason
    applied = (await gql(APPLY, {"code": code}, as_user=owner))["data"]["applyPromotionCode"]
    assert applied["code"] == reason
    assert (await _subscription(gql, owner))["status"] == "TRIALING"  # nothing changed
    assert await Invoice.filter(organization_id=organization.id).count() == 0
    assert await Redemption.filter(organization_id=organization.id).count() == 0
    assert not await SubscriptionDiscount.exists(organization_id=organization.id)


async def test_members_do_not_apply_codes_or_see_the_discount_rule_acc_2_acc_3(
    gql: GraphQLClient,
) -> None:
    body = await gql(APPLY, {"code": "SPRING20"}, as_user="member@acme.test")
    assert error_codes(body) == ["FORBIDDEN"]
    read = await gql(
        "{ organization { subscription { discount { coupon } } } }", as_user="member@acme.test"
    )
    assert error_codes(read) == ["FORBIDDEN"]


async def test_a_code_applied_during_the_trial_discounts_the_first_paid_period_rule_dsc_1(
    gql: GraphQLClient, clock_at: FixedClock
) -> None:
    """EMAILHALF (50 % off Email, once, first subscription only) typed during the trial: the
    subscribe invoice is discounted, the next renewal is not; an organization that has paid
    for a subscription before is refused it."""
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=14), SEEDED_AT),
        status="TRIALING",  # type: ignore[arg-type]
        trial_ends_at=SEEDED_AT + timedelta(days=3),
    )
    applied = (await gql(APPLY, {"code": "emailhalf"}, as_user=owner))["data"]
    assert applied["applyPromotionCode"]["subscription"]["discount"]["periodsLeft"] == 1
    half = half_away(Fraction(3000 * 50, 100))
    item = {"product": "email", "plan": "email-1000"}
    preview = (await gql(PREVIEW, {"input": item}, as_user=owner))["data"]["previewPlanChange"]
    assert (_pairs(preview["lines"]), preview["amountDueNow"]["amount"]) == ([(3000, half)], 1500)
    subscribed = await gql(SUBSCRIBE, {"input": item, "confirm": 1500}, as_user=owner)
    assert subscribed["data"]["subscribe"]["invoice"]["amountDue"]["amount"] == 1500
    draft = (await _subscription(gql, owner))["upcomingInvoice"]
    assert _pairs(draft["lines"]) == [(3000, 0)]  # once: the first period only

    _, paying = await organization_with(
        [{"product": "email", "plan": "email-1000"}],
        period=(SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21)),
    )
    await _advance(gql, paying, 22)  # a renewal invoice: no longer a first subscription
    refused = (await gql(APPLY, {"code": "EMAILHALF"}, as_user=paying))["data"]
    assert refused["applyPromotionCode"]["code"] == "PROMOTION_CODE_FIRST_SUBSCRIPTION_ONLY"
