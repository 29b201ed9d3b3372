"""createCoupon and createPromotionCode (DSC-1): the SaaS's backend defines discounts with a
platform key of scope coupons:write (ACC-6); catalog-file coupons are seeded the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from billing import discounts
from billing.discounts import CouponDuration
from billing.errors import BillingError
from models import Coupon as CouponRow
from models import PromotionCode as PromotionCodeRow
from resolvers import coupon_provisioning
from resolvers.coupon_store import coupon_value
from resolvers.platform import require_platform_caller
from schema.common import Money
from schema.context import Info
from schema.discount import Discount as Discount  # registers CouponDuration with the schema
from schema.plan_change import UserError
from schema.user_errors import user_error


@strawberry.input(description="A fixed amount off in one currency, in its minor unit (MNY-1).")
class CurrencyAmountInput:
    currency: str
    amount: int


@strawberry.input(description="DSC-1: percentOff or amountsOff, not both.")
class CreateCouponInput:
    code: str = strawberry.field(description="Lower-case letters, digits, '-' and '_'.")
    name: str
    duration: CouponDuration
    duration_periods: int | None = strawberry.field(
        default=None, description="For REPEATING: the periods it lasts, from the one applied in."
    )
    percent_off: int | None = strawberry.field(default=None, description="1 to 100.")
    amounts_off: list[CurrencyAmountInput] | None = None
    products: list[str] = strawberry.field(default_factory=list, description="Empty: all.")
    plans: list[str] = strawberry.field(default_factory=list, description="Empty: all.")
    max_redemptions: int | None = None
    expires_at: datetime | None = None

    def to_coupon(self) -> discounts.Coupon:
        amounts = None
        if self.amounts_off is not None:
            amounts = {a.currency: a.amount for a in self.amounts_off}
            if len(amounts) != len(self.amounts_off):
                raise BillingError("amountsOff names a currency twice.", field="input.amountsOff")
        if not _is_code(self.code):
            raise BillingError(
                "A coupon code is lower-case letters, digits, '-' and '_'.", field="input.code"
            )
        if self.max_redemptions is not None and self.max_redemptions < 1:
            raise BillingError("maxRedemptions is at least 1.", field="input.maxRedemptions")
        if self.percent_off is not None and not 1 <= self.percent_off <= 100:
            raise BillingError("percentOff is 1 to 100.", field="input.percentOff")
        try:
            return discounts.coupon_from_parts(
                code=self.code,
                name=self.name,
                duration=self.duration,
                duration_periods=self.duration_periods,
                percent_off=self.percent_off,
                amounts_off=amounts,
                products=self.products,
                plans=self.plans,
                max_redemptions=self.max_redemptions,
                expires_at=self.expires_at,
            )
        except ValueError as error:
            raise BillingError(f"{error}.", field="input") from error


@strawberry.input
class CreatePromotionCodeInput:
    code: str = strawberry.field(description="What customers type; case-insensitive.")
    coupon: str = strawberry.field(description="The coupon's code.")
    first_subscription_only: bool = False
    once_per_organization: bool = True
    max_redemptions: int | None = None
    expires_at: datetime | None = None


@strawberry.type(description="DSC-1: a coupon as created; coupons are never changed.")
class Coupon:
    code: str
    name: str
    description: str
    duration: CouponDuration
    duration_periods: int | None
    percent_off: int | None
    amounts_off: list[Money]
    products: list[str]
    plans: list[str]
    max_redemptions: int | None
    expires_at: datetime | None
    created_by: str | None = strawberry.field(description="The platform key that created it.")

    @classmethod
    def of(cls, row: CouponRow) -> Coupon:
        value = coupon_value(row)
        amounts = sorted((value.amounts_off or {}).items())
        return cls(
            code=value.code,
            name=value.name,
            description=value.describe(amounts[0][0] if amounts else "USD"),
            duration=value.duration,
            duration_periods=value.duration_periods,
            percent_off=None if value.percent_off_bp is None else value.percent_off_bp // 100,
            amounts_off=[Money.of(amount, currency) for currency, amount in amounts],
            products=sorted(value.products),
            plans=sorted(value.plans),
            max_redemptions=value.max_redemptions,
            expires_at=value.expires_at,
            created_by=row.created_by,
        )


@strawberry.type
class PromotionCode:
    code: str
    coupon: Coupon
    first_subscription_only: bool
    once_per_organization: bool
    max_redemptions: int | None
    expires_at: datetime | None
    created_by: str | None

    @classmethod
    def of(cls, row: PromotionCodeRow, coupon: CouponRow) -> PromotionCode:
        return cls(
            code=row.code,
            coupon=Coupon.of(coupon),
            first_subscription_only=row.first_subscription_only,
            once_per_organization=row.once_per_organization,
            max_redemptions=row.max_redemptions,
            expires_at=row.expires_at,
            created_by=row.created_by,
        )


@strawberry.type
class CouponCreated:
    coupon: Coupon


@strawberry.type
class PromotionCodeCreated:
    promotion_code: PromotionCode


CreateCouponResult = Annotated[CouponCreated | UserError, strawberry.union("CreateCouponResult")]
CreatePromotionCodeResult = Annotated[
    PromotionCodeCreated | UserError, strawberry.union("CreatePromotionCodeResult")
]


def _creator(info: Info) -> coupon_provisioning.Creator:
    key = require_platform_caller(
        info.context.viewer, info.context.api_key, coupon_provisioning.SCOPE
    )
    return coupon_provisioning.Creator(f"API key {key.key_id}", info.context.client_address)


def _is_code(text: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    return 0 < len(text) <= 64 and set(text) <= allowed and text[0] not in "-_"


@strawberry.type
class CouponMutation:
    @strawberry.mutation(
        description="DSC-1: a coupon (platform key, coupons:write); recorded with its creator."
    )
    async def create_coupon(self, info: Info, input: CreateCouponInput) -> CreateCouponResult:
        creator = _creator(info)
        try:
            row = await coupon_provisioning.provision_coupon(
                input.to_coupon(), creator, info.context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        return CouponCreated(coupon=Coupon.of(row))

    @strawberry.mutation(
        description="DSC-1: a promotion code naming a coupon (platform key, coupons:write)."
    )
    async def create_promotion_code(
        self, info: Info, input: CreatePromotionCodeInput
    ) -> CreatePromotionCodeResult:
        creator = _creator(info)
        new = coupon_provisioning.NewPromotionCode(
            input.code,
            input.coupon,
            input.first_subscription_only,
            input.once_per_organization,
            input.max_redemptions,
            input.expires_at,
        )
        try:
            row, coupon = await coupon_provisioning.create_promotion(
                new, creator, info.context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        return PromotionCodeCreated(promotion_code=PromotionCode.of(row, coupon))
