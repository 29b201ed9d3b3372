"""Coupons, promotion codes and what they take off an invoice (rules DSC-1, DSC-2, MNY-2).

Pure rules: whether a promotion code may be redeemed, how long its coupon lasts, and the
discount on each invoice line. The resolvers load the facts, ask these functions and write.

Order on a line (MNY-2): the line's (prorated) amount is rounded first, by the caller; then its
discount is computed from that rounded amount and rounded once, half away from zero; tax comes
after, on `amount - discount`, and is no business of this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING

from billing.errors import BillingError
from billing.money import Money
from billing.proration import round_half_away_from_zero

if TYPE_CHECKING:  # billing.quote asks this module; Line is only a type here
    from billing.quote import Line

BASIS_POINTS = 10_000  # 100 %


class CouponDuration(StrEnum):
    ONCE = "ONCE"  # the period in which it is applied
    REPEATING = "REPEATING"  # N periods, counted from the one in which it is applied
    FOREVER = "FOREVER"


class DiscountErrorCode(StrEnum):
    UNKNOWN_PROMOTION_CODE = "UNKNOWN_PROMOTION_CODE"
    PROMOTION_CODE_EXPIRED = "PROMOTION_CODE_EXPIRED"
    PROMOTION_CODE_LIMIT_REACHED = "PROMOTION_CODE_LIMIT_REACHED"
    PROMOTION_CODE_NOT_APPLICABLE = "PROMOTION_CODE_NOT_APPLICABLE"
    PROMOTION_CODE_ALREADY_USED = "PROMOTION_CODE_ALREADY_USED"
    PROMOTION_CODE_FIRST_SUBSCRIPTION_ONLY = "PROMOTION_CODE_FIRST_SUBSCRIPTION_ONLY"
    DISCOUNT_ALREADY_APPLIED = "DISCOUNT_ALREADY_APPLIED"
    NO_DISCOUNT = "NO_DISCOUNT"


class DiscountError(BillingError):
    """A promotion code refused; nothing changed. `reason` is the GraphQL extensions.code."""

    def __init__(self, message: str, code: DiscountErrorCode, field: str = "promotionCode"):
        super().__init__(message, field=field, reason=code.value)


@dataclass(frozen=True)
class Coupon:
    """DSC-1: percent off (in basis points) or a fixed amount off per currency."""

    code: str
    name: str
    duration: CouponDuration
    percent_off_bp: int | None = None  # 2000 = 20 %
    amounts_off: Mapping[str, int] | None = None  # currency -> minor units
    duration_periods: int | None = None  # REPEATING only
    products: frozenset[str] = frozenset()  # empty: every product
    plans: frozenset[str] = frozenset()  # empty: every plan
    max_redemptions: int | None = None
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.percent_off_bp is None) == (self.amounts_off is None):
            raise ValueError("a coupon is either a percent or fixed amounts, not both")
        if self.percent_off_bp is not None and not 0 < self.percent_off_bp <= BASIS_POINTS:
            raise ValueError("a percent off is more than 0 and at most 100")
        if self.amounts_off is not None and (
            not self.amounts_off or any(v <= 0 for v in self.amounts_off.values())
        ):
            raise ValueError("a fixed coupon names a positive amount for at least one currency")
        repeating = self.duration is CouponDuration.REPEATING
        if repeating != (self.duration_periods is not None):
            raise ValueError("duration_periods is set for REPEATING coupons, and only for them")
        if self.duration_periods is not None and self.duration_periods < 1:
            raise ValueError("a repeating coupon lasts at least one period")

    def periods(self) -> int | None:
        """How many periods it lasts, counting the one it is applied in; None for ever."""
        if self.duration is CouponDuration.ONCE:
            return 1
        return self.duration_periods

    def applies_to(self, product: str | None, plan: str | None) -> bool:
        if self.products and product not in self.products:
            return False
        return not (self.plans and plan not in self.plans)

    def describe(self, currency: str) -> str:
        if self.percent_off_bp is not None:
            return f"{_percent(self.percent_off_bp)} off"
        amount = (self.amounts_off or {}).get(currency)
        return (
            f"{Money(amount, currency).formatted()} off" if amount is not None else "an amount off"
        )


@dataclass(frozen=True)
class PromotionCode:
    """What customers type; names a coupon, may add limits (DSC-1)."""

    code: str
    coupon: Coupon
    first_subscription_only: bool = False
    once_per_organization: bool = True
    max_redemptions: int | None = None
    expires_at: datetime | None = None
    active: bool = True


def normalize_code(text: str) -> str:
    """Promotion codes are case-insensitive: stored and looked up upper-case, trimmed."""
    return text.strip().upper()


@dataclass(frozen=True)
class Redemption:
    """What the gateway knows when a code is typed."""

    now: datetime
    currency: str
    code_redemptions: int  # of this promotion code, by everyone
    coupon_redemptions: int  # of its coupon, through any code
    used_by_organization: bool  # this organization redeemed this code before
    had_paid_subscription: bool  # this organization has been invoiced for a subscription before
    subscribed: Sequence[tuple[str, str]]  # (product, plan) of the lines it would discount
    has_discount: bool = False  # a discount is already in force


def check_redemption(promotion: PromotionCode, facts: Redemption) -> None:
    """DSC-1: refuses, with the reason, a code that may not be redeemed now; returns if it may."""
    coupon, shown = promotion.coupon, promotion.code
    if not promotion.active:
        raise DiscountError(
            f"The promotion code {shown} is no longer active.",
            DiscountErrorCode.PROMOTION_CODE_EXPIRED,
        )
    for expires_at in (promotion.expires_at, coupon.expires_at):
        if expires_at is not None and facts.now >= expires_at:
            raise DiscountError(
                f"The promotion code {shown} expired on {expires_at:%-d %b %Y}.",
                DiscountErrorCode.PROMOTION_CODE_EXPIRED,
            )
    limits = (
        (promotion.max_redemptions, facts.code_redemptions),
        (coupon.max_redemptions, facts.coupon_redemptions),
    )
    for limit, used in limits:
        if limit is not None and used >= limit:
            raise DiscountError(
                f"The promotion code {shown} has been redeemed as often as it may be ({limit}).",
                DiscountErrorCode.PROMOTION_CODE_LIMIT_REACHED,
            )
    if promotion.once_per_organization and facts.used_by_organization:
        raise DiscountError(
            f"This organization has already used the promotion code {shown}.",
            DiscountErrorCode.PROMOTION_CODE_ALREADY_USED,
        )
    if promotion.first_subscription_only and facts.had_paid_subscription:
        raise DiscountError(
            f"The promotion code {shown} is for a first subscription only.",
            DiscountErrorCode.PROMOTION_CODE_FIRST_SUBSCRIPTION_ONLY,
        )
    if coupon.amounts_off is not None and facts.currency not in coupon.amounts_off:
        raise DiscountError(
            f"The promotion code {shown} has no amount in {facts.currency}.",
            DiscountErrorCode.PROMOTION_CODE_NOT_APPLICABLE,
        )
    if not any(coupon.applies_to(product, plan) for product, plan in facts.subscribed):
        raise DiscountError(
            f"The promotion code {shown} is not valid for the plans chosen.",
            DiscountErrorCode.PROMOTION_CODE_NOT_APPLICABLE,
        )
    if facts.has_discount:
        raise DiscountError(
            "A discount is already applied: remove it first (removeDiscount).",
            DiscountErrorCode.DISCOUNT_ALREADY_APPLIED,
        )


@dataclass(frozen=True)
class InForce:
    """A coupon applied to a subscription, as it stands in the current period."""

    coupon: Coupon
    periods_left: int | None  # including the current period; None for ever
    # Whether the current period was billed with it: then a credit for unused time in this period
    # gives back the discounted amount (percent coupons), not the list price.
    billed_this_period: bool
    # Fixed coupons: what of the fixed amount invoices of this period have not used yet.
    fixed_used_this_period: int = 0

    def active(self) -> bool:
        return self.periods_left is None or self.periods_left > 0


def periods_after_renewal(periods_left: int | None) -> int | None:
    """At each new period the count goes down by one; at 0 the discount has ended."""
    return None if periods_left is None else max(periods_left - 1, 0)


def percent_of(amount: int, percent_off_bp: int) -> int:
    """DSC-2: the discount on one line, rounded once; never larger than the line."""
    return round_half_away_from_zero(Fraction(amount * percent_off_bp, BASIS_POINTS))


def split_fixed(total: int, amounts: Sequence[int]) -> list[int]:
    """DSC-2: a fixed amount over several lines in proportion to their amounts, each share
    rounded half away from zero; the rounding remainder goes to the largest line (to the next
    largest where a line would otherwise be discounted beyond its amount). The shares sum to
    min(total, sum(amounts)) exactly and no share exceeds its line. Amounts are positive."""
    if any(a <= 0 for a in amounts):
        raise ValueError("a fixed discount is split over positive lines only")
    base = sum(amounts)
    total = min(total, base)
    if base == 0 or total <= 0:
        return [0] * len(amounts)
    shares = [min(round_half_away_from_zero(Fraction(total * a, base)), a) for a in amounts]
    remainder = total - sum(shares)
    # Largest line first; equal lines by position, so the result is deterministic.
    for index in sorted(range(len(amounts)), key=lambda i: (-amounts[i], i)):
        if remainder == 0:
            break
        if remainder > 0:
            step = min(remainder, amounts[index] - shares[index])
        else:
            step = -min(-remainder, shares[index])
        shares[index] += step
        remainder -= step
    return shares


def discount_lines(
    lines: Sequence[Line], discount: InForce | None, currency: str
) -> tuple[Line, ...]:
    """DSC-2: every line with its discount filled in (lines already rounded, MNY-2).

    A percent coupon takes its percent off each plan line the coupon covers, and off each credit
    for unused time of a period that was billed with it (the customer gets back what was paid).
    A fixed coupon takes what is left of its amount for the period off the charges it covers,
    split in proportion; credits keep their amount."""
    if discount is None or not discount.active():
        return tuple(replace(line, discount=0) for line in lines)
    coupon = discount.coupon
    # Only lines that bill a product's plan (its seats, ladder step, add-ons) are discounted:
    # usage charges and the note of credit dropped below a period (no product) never are.
    covered = [
        line.product is not None and coupon.applies_to(line.product, line.plan) for line in lines
    ]
    if coupon.percent_off_bp is not None:
        bp = coupon.percent_off_bp
        return tuple(
            replace(
                line,
                discount=percent_of(line.amount, bp)
                if ok and (line.amount > 0 or discount.billed_this_period)
                else 0,
            )
            for line, ok in zip(lines, covered, strict=True)
        )
    budget = (coupon.amounts_off or {}).get(currency, 0) - discount.fixed_used_this_period
    charges = [i for i, line in enumerate(lines) if covered[i] and line.amount > 0]
    shares = split_fixed(max(budget, 0), [lines[i].amount for i in charges])
    by_index = dict(zip(charges, shares, strict=True))
    return tuple(replace(line, discount=by_index.get(i, 0)) for i, line in enumerate(lines))


def total_discount(lines: Sequence[Line]) -> int:
    return sum(line.discount for line in lines)


def _percent(bp: int) -> str:
    return f"{(Decimal(bp) / 100).normalize():f} %"


def coupon_from_parts(
    *,
    code: str,
    name: str,
    duration: CouponDuration,
    duration_periods: int | None,
    percent_off: int | None,
    amounts_off: Mapping[str, int] | None,
    products: Sequence[str] = (),
    plans: Sequence[str] = (),
    max_redemptions: int | None = None,
    expires_at: datetime | None = None,
) -> Coupon:
    """A coupon as the catalog file and the provisioning API state it (a whole percent)."""
    return Coupon(
        code=code,
        name=name,
        duration=duration,
        percent_off_bp=None if percent_off is None else percent_off * 100,
        amounts_off=None if amounts_off is None else dict(amounts_off),
        duration_periods=duration_periods,
        products=frozenset(products),
        plans=frozenset(plans),
        max_redemptions=max_redemptions,
        expires_at=expires_at,
    )
