"""Writing coupons and promotion codes (DSC-1), from the catalog file or the provisioning API,
and reading them back as billing.discounts values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from billing import discounts
from models import Coupon, PromotionCode


def coupon_value(row: Coupon) -> discounts.Coupon:
    amounts = None if row.amounts_off is None else {k: int(v) for k, v in row.amounts_off.items()}
    return discounts.Coupon(
        code=row.code,
        name=row.name,
        duration=row.duration,
        percent_off_bp=row.percent_off_bp,
        amounts_off=amounts,
        duration_periods=row.duration_periods,
        products=frozenset(row.products),
        plans=frozenset(row.plans),
        max_redemptions=row.max_redemptions,
        expires_at=row.expires_at,
    )


def promotion_value(row: PromotionCode, coupon: Coupon) -> discounts.PromotionCode:
    return discounts.PromotionCode(
        code=row.code,
        coupon=coupon_value(coupon),
        first_subscription_only=row.first_subscription_only,
        once_per_organization=row.once_per_organization,
        max_redemptions=row.max_redemptions,
        expires_at=row.expires_at,
        active=row.active,
    )


def _coupon_fields(coupon: discounts.Coupon) -> dict[str, Any]:
    return {
        "name": coupon.name,
        "duration": coupon.duration,
        "duration_periods": coupon.duration_periods,
        "percent_off_bp": coupon.percent_off_bp,
        "amounts_off": None if coupon.amounts_off is None else dict(coupon.amounts_off),
        "products": sorted(coupon.products),
        "plans": sorted(coupon.plans),
        "max_redemptions": coupon.max_redemptions,
        "expires_at": coupon.expires_at,
    }


async def upsert_catalog_coupon(coupon: discounts.Coupon) -> Coupon:
    """The catalog file's coupon, created or brought up to date (seeding is idempotent)."""
    row, _ = await Coupon.update_or_create(
        code=coupon.code, defaults={**_coupon_fields(coupon), "from_catalog": True}
    )
    return row


async def upsert_catalog_promotion_code(
    code: str,
    coupon: Coupon,
    *,
    first_subscription_only: bool,
    once_per_organization: bool,
    max_redemptions: int | None,
    expires_at: datetime | None,
) -> PromotionCode:
    row, _ = await PromotionCode.update_or_create(
        code=discounts.normalize_code(code),
        defaults={
            "coupon": coupon,
            "first_subscription_only": first_subscription_only,
            "once_per_organization": once_per_organization,
            "max_redemptions": max_redemptions,
            "expires_at": expires_at,
            "from_catalog": True,
        },
    )
    return row


async def create_coupon(coupon: discounts.Coupon) -> Coupon:
    return await Coupon.create(code=coupon.code, **_coupon_fields(coupon))
