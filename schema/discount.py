"""The discount in force on a subscription, and the answers of applyPromotionCode and
removeDiscount (DSC-1): see schema.discount_results."""

from __future__ import annotations

from datetime import datetime

import strawberry

from billing.discounts import CouponDuration
from resolvers.discounts import DiscountView
from schema.common import Money

strawberry.enum(CouponDuration, description="DSC-1: how long a coupon lasts.")


@strawberry.type(description="DSC-1: a coupon applied to the subscription, while it lasts.")
class Discount:
    coupon: str = strawberry.field(description="The coupon's code.")
    name: str
    description: str = strawberry.field(description='e.g. "20 % off" or "$10.00 off".')
    promotion_code: str | None = strawberry.field(description="The code it was applied with.")
    percent_off: int | None = strawberry.field(description="A whole percent; null if fixed.")
    amount_off: Money | None = strawberry.field(
        description="Off each period's invoices, in the subscription's currency; null if percent."
    )
    duration: CouponDuration
    duration_periods: int | None = strawberry.field(description="For REPEATING coupons.")
    periods_left: int | None = strawberry.field(
        description=(
            "Periods it still discounts, counting the current one (the period it was applied in "
            "is the first); null for FOREVER."
        )
    )
    products: list[str] = strawberry.field(description="Limited to these products; empty: all.")
    plans: list[str] = strawberry.field(description="Limited to these plans; empty: all.")
    applied_at: datetime

    @classmethod
    def of(cls, view: DiscountView, currency: str) -> Discount:
        coupon = view.coupon
        fixed = (coupon.amounts_off or {}).get(currency)
        return cls(
            coupon=coupon.code,
            name=coupon.name,
            description=coupon.describe(currency),
            promotion_code=view.promotion_code,
            percent_off=None if coupon.percent_off_bp is None else coupon.percent_off_bp // 100,
            amount_off=Money.of(fixed, currency) if fixed is not None else None,
            duration=coupon.duration,
            duration_periods=coupon.duration_periods,
            periods_left=view.periods_left,
            products=sorted(coupon.products),
            plans=sorted(coupon.plans),
            applied_at=view.applied_at,
        )
