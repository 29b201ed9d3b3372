"""createCoupon and createPromotionCode (DSC-1) for the SaaS's backend (a platform key with the
scope coupons:write): checked against the catalog, created once, recorded with who made them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from billing import discounts
from billing.errors import BillingError
from billing.money import MINOR_UNIT_DIGITS
from models import Coupon, Plan, Product, PromotionCode
from resolvers.coupon_store import create_coupon

SCOPE = "coupons:write"


@dataclass(frozen=True)
class Creator:
    label: str  # the platform key, as the audit log names it
    address: str | None


@dataclass(frozen=True)
class NewPromotionCode:
    code: str
    coupon: str
    first_subscription_only: bool
    once_per_organization: bool
    max_redemptions: int | None
    expires_at: datetime | None


async def provision_coupon(coupon: discounts.Coupon, creator: Creator, now: datetime) -> Coupon:
    await _check_catalog(coupon)
    if coupon.expires_at is not None and coupon.expires_at <= now:
        raise BillingError("expiresAt is in the past.", field="input.expiresAt")
    async with in_transaction():
        if await Coupon.exists(code=coupon.code):
            raise BillingError(
                f"A coupon with the code {coupon.code!r} exists: coupons are never changed, "
                "create one with another code.",
                field="input.code",
                reason="CODE_TAKEN",
            )
        row = await create_coupon(coupon)
        row.created_by, row.created_from = creator.label, creator.address
        await row.save(update_fields=["created_by", "created_from"])
    return row


async def create_promotion(
    new: NewPromotionCode, creator: Creator, now: datetime
) -> tuple[PromotionCode, Coupon]:
    code = discounts.normalize_code(new.code)
    if not code or not all(c.isalnum() or c in "-_" for c in code) or not code.isascii():
        raise BillingError(
            "A promotion code is letters, digits, '-' and '_' (at most 64).", field="input.code"
        )
    if new.max_redemptions is not None and new.max_redemptions < 1:
        raise BillingError("maxRedemptions is at least 1.", field="input.maxRedemptions")
    if new.expires_at is not None and new.expires_at <= now:
        raise BillingError("expiresAt is in the past.", field="input.expiresAt")
    async with in_transaction():
        coupon = await Coupon.get_or_none(code=new.coupon)
        if coupon is None:
            raise BillingError(f"There is no coupon {new.coupon!r}.", field="input.coupon")
        if await PromotionCode.exists(code=code):
            raise BillingError(
                f"The promotion code {code} exists (codes are case-insensitive).",
                field="input.code",
                reason="CODE_TAKEN",
            )
        row = await PromotionCode.create(
            code=code,
            coupon=coupon,
            first_subscription_only=new.first_subscription_only,
            once_per_organization=new.once_per_organization,
            max_redemptions=new.max_redemptions,
            expires_at=new.expires_at,
            created_by=creator.label,
            created_from=creator.address,
        )
    return row, coupon


async def _check_catalog(coupon: discounts.Coupon) -> None:
    for currency in coupon.amounts_off or {}:
        if currency not in MINOR_UNIT_DIGITS:
            raise BillingError(
                f"Unknown currency {currency!r}: one of {sorted(MINOR_UNIT_DIGITS)}.",
                field="input.amountsOff",
            )
    known = set(
        await Product.filter(code__in=sorted(coupon.products)).values_list("code", flat=True)
    )
    for product in sorted(coupon.products - known):
        raise BillingError(f"There is no product {product!r}.", field="input.products")
    plans = set(await Plan.filter(code__in=sorted(coupon.plans)).values_list("code", flat=True))
    for plan in sorted(coupon.plans - plans):
        raise BillingError(f"There is no plan {plan!r}.", field="input.plans")
