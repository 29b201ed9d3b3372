"""The answers of applyPromotionCode and removeDiscount (DSC-1)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.plan_change import UserError
from schema.subscription import Subscription


@strawberry.type(description="DSC-1: the code is applied; `subscription.discount` shows it.")
class DiscountApplied:
    subscription: Subscription


@strawberry.type(description="The next invoice is billed without the discount.")
class DiscountRemoved:
    subscription: Subscription


ApplyPromotionCodeResult = Annotated[
    DiscountApplied | UserError, strawberry.union("ApplyPromotionCodeResult")
]
RemoveDiscountResult = Annotated[
    DiscountRemoved | UserError, strawberry.union("RemoveDiscountResult")
]
