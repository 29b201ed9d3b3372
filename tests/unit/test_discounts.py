"""Coupons, promotion codes and line discounts, table-driven and by property (DSC-1, DSC-2,
MNY-2). Expected amounts are literals, worked out by hand with exact fractions in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.discounts import (
    Coupon,
    CouponDuration,
    DiscountError,
    InForce,
    PromotionCode,
    Redemption,
    check_redemption,
    discount_lines,
    normalize_code,
    percent_of,
    periods_after_renewal,
    split_fixed,
)
from billing.periods import BillingInterval
from billing.policies import DowngradeTiming, UpgradeProration
from billing.proration import round_half_away_from_zero
from billing.quote import Facts, Item, Line, LineChange, Policy, Subscription, quote
from billing.subscription_status import SubscriptionStatus
from billing.tax import lines_total

NOW = datetime(2026, 3, 12, tzinfo=UTC)
PCT20 = Coupon("spring20", "20 % for 3 months", CouponDuration.REPEATING, 2000, None, 3)
TEN = Coupon("ten", "$10 off", CouponDuration.ONCE, amounts_off={"USD": 1000})
EMAIL_ONLY = replace(PCT20, products=frozenset({"email"}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 3),
        (Fraction(-5, 2), -3),
        (Fraction(7, 3), 2),
        (Fraction(-7, 3), -2),
        (Fraction(1, 2), 1),
        (Fraction(0), 0),
        (Fraction(2499, 1000), 2),
    ],
)
def test_round_half_away_from_zero_rule_mny_2(value: Fraction, expected: int) -> None:
    assert round_half_away_from_zero(value) == expected


@pytest.mark.parametrize(
    ("amount", "bp", "expected"),
    [
        (1999, 2000, 400),  # 1999 * 1/5 = 399.8 -> 400
        (1234, 2000, 247),  # 246.8 -> 247
        (-1234, 2000, -247),  # a credit gives back its discount: -246.8 -> -247
        (2, 2500, 1),  # 0.5 -> 1 (half away from zero)
        (1, 10000, 1),  # 100 % is the whole line, never more
        (4900, 1250, 613),  # 12.5 %: 612.5 -> 613
    ],
)
def test_percent_discount_rounded_once_rule_dsc_2(amount: int, bp: int, expected: int) -> None:
    assert percent_of(amount, bp) == expected


@pytest.mark.parametrize(
    ("total", "amounts", "expected"),
    [
        # $10 over 1500 + 500 + 300 = 2300: 1000*1500/2300 = 652.17 -> 652; 217.39 -> 217;
        # 130.43 -> 130; 652+217+130 = 999, the cent left to the largest line.
        (1000, [1500, 500, 300], [653, 217, 130]),
        # $10 larger than a small line alone: the whole line, not more.
        (1000, [300], [300]),
        # 5 over three lines of 2: 5/3 = 1.67 -> 2 each = 6; one too many, off the largest (first).
        (5, [2, 2, 2], [1, 2, 2]),
        # 5 over ten lines of 1: 0.5 -> 1 each = 10; five too many, back from the first lines.
        (5, [1] * 10, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
        (0, [100, 200], [0, 0]),
    ],
)
def test_fixed_split_in_proportion_rule_dsc_2(
    total: int, amounts: list[int], expected: list[int]
) -> None:
    assert split_fixed(total, amounts) == expected


@given(
    st.integers(min_value=0, max_value=10**7),
    st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=12),
)
def test_fixed_split_sums_exactly_and_never_exceeds_a_line_rule_dsc_2(
    total: int, amounts: list[int]
) -> None:
    shares = split_fixed(total, amounts)
    assert sum(shares) == min(total, sum(amounts))
    assert all(0 <= share <= amount for share, amount in zip(shares, amounts, strict=True))


@given(
    st.integers(min_value=-(10**8), max_value=10**8),
    st.integers(min_value=1, max_value=10_000),
)
def test_percent_discount_never_exceeds_its_line_rule_dsc_2(amount: int, bp: int) -> None:
    discount = percent_of(amount, bp)
    assert abs(discount) <= abs(amount)
    assert discount == 0 or (discount > 0) == (amount > 0)
    assert abs(Fraction(amount * bp, 10_000) - discount) <= Fraction(1, 2)


@given(
    st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=50_000),
    st.booleans(),
)
def test_fixed_discount_lines_never_exceed_lines_rule_dsc_2(
    amounts: list[int], fixed: int, billed: bool
) -> None:
    coupon = Coupon("f", "f", CouponDuration.FOREVER, amounts_off={"USD": fixed})
    lines = [Line(f"l{i}", a, product="email") for i, a in enumerate(amounts)]
    out = discount_lines(lines, InForce(coupon, None, billed), "USD")
    assert all(0 <= line.discount <= max(line.amount, 0) for line in out)
    assert sum(line.discount for line in out) == min(fixed, sum(a for a in amounts if a > 0))


def test_percent_coupon_on_credits_only_when_the_period_was_billed_with_it_rule_dsc_2() -> None:
    lines = [Line("unused", -1000, product="email"), Line("remaining", 3000, product="email")]
    billed = discount_lines(lines, InForce(PCT20, 3, billed_this_period=True), "USD")
    assert [line.discount for line in billed] == [-200, 600]
    assert lines_total(billed) == 1600  # untaxed: the lines after their discounts
    not_billed = discount_lines(lines, InForce(PCT20, 3, billed_this_period=False), "USD")
    assert [line.discount for line in not_billed] == [0, 600]


def test_coupon_limited_to_a_product_discounts_only_its_lines_rule_dsc_1() -> None:
    lines = [Line("email", 1000, product="email"), Line("sms", 1000, product="sms")]
    out = discount_lines(lines, InForce(EMAIL_ONLY, 1, True), "USD")
    assert [line.discount for line in out] == [200, 0]


def test_ended_discount_takes_nothing_rule_dsc_1() -> None:
    lines = [Line("a", 1000, product="email")]
    assert discount_lines(lines, InForce(PCT20, 0, True), "USD")[0].discount == 0


def test_usage_charges_and_dropped_credit_are_not_discounted_rule_dsc_2() -> None:
    lines = [
        Line("Email 1,500", 3000, product="email", plan="email-1500"),
        Line("On-demand blocks", 1000),  # usage: no product line
        Line("Unused credit below one full period, not carried over", 120),
    ]
    out = discount_lines(lines, InForce(TEN, 1, True), "USD")
    assert [line.discount for line in out] == [1000, 0, 0]


def test_fixed_coupon_uses_what_is_left_for_the_period_rule_dsc_1() -> None:
    lines = [Line("a", 5000, product="sms")]
    out = discount_lines(lines, InForce(TEN, 1, True, fixed_used_this_period=700), "USD")
    assert out[0].discount == 300


@pytest.mark.parametrize(
    ("duration", "periods", "expected"),
    [
        (CouponDuration.ONCE, None, [1, 0]),
        (CouponDuration.REPEATING, 3, [3, 2, 1, 0, 0]),
        (CouponDuration.FOREVER, None, [None, None]),
    ],
)
def test_duration_counts_periods_from_the_one_applied_in_rule_dsc_1(
    duration: CouponDuration, periods: int | None, expected: list[int | None]
) -> None:
    coupon = Coupon("c", "c", duration, 1000, None, periods)
    left = coupon.periods()
    seen = []
    for _ in expected:
        seen.append(left)
        left = periods_after_renewal(left)
    assert seen == expected


def _facts(**changes: object) -> Redemption:
    base = Redemption(
        now=NOW,
        currency="USD",
        code_redemptions=0,
        coupon_redemptions=0,
        used_by_organization=False,
        had_paid_subscription=False,
        subscribed=[("email", "email-1000")],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("promotion", "facts", "reason"),
    [
        (PromotionCode("SPRING20", PCT20), _facts(), None),
        (
            PromotionCode("OLD", replace(PCT20, expires_at=NOW)),
            _facts(),
            "PROMOTION_CODE_EXPIRED",
        ),
        (
            PromotionCode("OLD", PCT20, expires_at=NOW - timedelta(seconds=1)),
            _facts(),
            "PROMOTION_CODE_EXPIRED",
        ),
        (
            PromotionCode("FULL", replace(PCT20, max_redemptions=5)),
            _facts(coupon_redemptions=5),
            "PROMOTION_CODE_LIMIT_REACHED",
        ),
        (
            PromotionCode("FULL", PCT20, max_redemptions=2),
            _facts(code_redemptions=2),
            "PROMOTION_CODE_LIMIT_REACHED",
        ),
        (
            PromotionCode("AGAIN", PCT20),
            _facts(used_by_organization=True),
            "PROMOTION_CODE_ALREADY_USED",
        ),
        (
            PromotionCode("AGAIN", PCT20, once_per_organization=False),
            _facts(used_by_organization=True),
            None,
        ),
        (
            PromotionCode("FIRST", PCT20, first_subscription_only=True),
            _facts(had_paid_subscription=True),
            "PROMOTION_CODE_FIRST_SUBSCRIPTION_ONLY",
        ),
        (
            PromotionCode("SMS", replace(PCT20, products=frozenset({"sms"}))),
            _facts(),
            "PROMOTION_CODE_NOT_APPLICABLE",
        ),
        (
            PromotionCode("PRO", replace(PCT20, plans=frozenset({"email-pro"}))),
            _facts(),
            "PROMOTION_CODE_NOT_APPLICABLE",
        ),
        (PromotionCode("EUR", TEN), _facts(currency="EUR"), "PROMOTION_CODE_NOT_APPLICABLE"),
        (PromotionCode("TWICE", PCT20), _facts(has_discount=True), "DISCOUNT_ALREADY_APPLIED"),
    ],
)
def test_redemption_rules_rule_dsc_1(
    promotion: PromotionCode, facts: Redemption, reason: str | None
) -> None:
    if reason is None:
        check_redemption(promotion, facts)
        return
    with pytest.raises(DiscountError) as refused:
        check_redemption(promotion, facts)
    assert refused.value.reason == reason
    assert promotion.code in refused.value.message or "discount" in refused.value.message


def test_codes_are_case_insensitive_rule_dsc_1() -> None:
    assert normalize_code("  spring20 ") == normalize_code("SPRING20") == "SPRING20"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"percent_off_bp": 2000, "amounts_off": {"USD": 1}},
        {"percent_off_bp": None, "amounts_off": None},
        {"percent_off_bp": 10001},
        {"percent_off_bp": 0},
        {"amounts_off": {"USD": 0}},
        {"percent_off_bp": 10, "duration": CouponDuration.REPEATING},
        {"percent_off_bp": 10, "duration_periods": 2},
    ],
)
def test_malformed_coupons_are_refused_rule_dsc_1(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"code": "x", "name": "x", "duration": CouponDuration.ONCE}
    arguments.update(kwargs)
    with pytest.raises(ValueError):
        Coupon(**arguments)  # type: ignore[arg-type]


START = datetime(2026, 3, 2, tzinfo=UTC)  # a 31-day period, 2 Mar to 2 Apr


def _item(plan: str, amount: int) -> Item:
    return Item("email", "Email", plan, plan, amount)


def test_quote_discounts_a_mid_period_upgrade_before_the_credit_balance_rule_dsc_2() -> None:
    current = Subscription(
        SubscriptionStatus.ACTIVE,
        BillingInterval.MONTHLY,
        START,
        START,
        datetime(2026, 4, 2, tzinfo=UTC),
        "USD",
        (_item("a", 2000),),
        credit_balance=100,
    )
    wanted = replace(current, items=(_item("b", 5000),))
    policy = Policy(UpgradeProration.PRORATE_KEEP_CYCLE, DowngradeTiming.END_OF_PERIOD)
    facts = Facts(has_payment_method=True, discount=InForce(PCT20, 3, True))
    q = quote(current, wanted, LineChange("email", policy, NOW), facts)
    # 21 of 31 days left: unused -2000*21/31 = -1354.84 -> -1355; remaining 5000*21/31 =
    # 3387.10 -> 3387. Discounts: -1355/5 = -271; 3387/5 = 677.4 -> 677. Net 2032 - 406 = 1626;
    # the credit balance pays 100 after the discount: 1526 due.
    assert [(line.amount, line.discount) for line in q.lines] == [(-1355, -271), (3387, 677)]
    assert (q.total, q.discount_total, q.credit_applied, q.amount_due_now) == (1626, 406, 100, 1526)
