"""Checks on the catalog file's coupons and promotion codes that their shapes cannot state
(DSC-1): one of percent or amounts, a period count only for REPEATING, known products, plans,
currencies and coupons, unique codes (promotion codes case-insensitively)."""

from __future__ import annotations

from billing.discounts import Coupon, coupon_from_parts, normalize_code
from billing.money import MINOR_UNIT_DIGITS
from gateway.catalog_spec import CatalogSpec, CouponSpec


def coupon_problems(spec: CatalogSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    products = {p.code for p in spec.products}
    plans = {plan.code for p in spec.products for plan in p.plans}
    plans |= {plan.code for p in spec.products for b in p.bundles for plan in b.plans}
    codes = [c.code for c in spec.coupons]
    problems += _duplicates("coupons", codes)
    for i, coupon in enumerate(spec.coupons):
        at = f"coupons[{i}]"
        try:
            coupon_of(coupon)
        except ValueError as error:
            problems.append((at, str(error)))
        for currency in coupon.amounts_off or {}:
            if currency not in MINOR_UNIT_DIGITS:
                problems.append((f"{at}.amounts_off", f"unknown currency {currency!r}"))
        problems += [
            (f"{at}.products", f"no product {p!r}") for p in coupon.products if p not in products
        ]
        problems += [(f"{at}.plans", f"no plan {p!r}") for p in coupon.plans if p not in plans]
    problems += _duplicates(
        "promotion_codes", [normalize_code(p.code) for p in spec.promotion_codes]
    )
    for i, promotion in enumerate(spec.promotion_codes):
        if promotion.coupon not in codes:
            problems.append((f"promotion_codes[{i}].coupon", f"no coupon {promotion.coupon!r}"))
    return problems


def coupon_of(spec: CouponSpec) -> Coupon:
    return coupon_from_parts(
        code=spec.code,
        name=spec.name,
        duration=spec.duration,
        duration_periods=spec.duration_periods,
        percent_off=spec.percent_off,
        amounts_off=spec.amounts_off,
        products=spec.products,
        plans=spec.plans,
        max_redemptions=spec.max_redemptions,
        expires_at=spec.expires_at,
    )


def _duplicates(at: str, values: list[str]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    found = []
    for value in values:
        if value in seen:
            found.append((at, f"{value!r} appears more than once"))
        seen.add(value)
    return found
