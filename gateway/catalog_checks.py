"""Checks across the fields of the catalog file that its shapes cannot state: unique codes, a
price for every interval a product is sold in, limits on the product's own metrics, coherent
upgrade-preference policies (CAT-1 to CAT-7, PREF-2, USE-6), one tax rate per place (TAX-1)."""

from __future__ import annotations

from typing import Any

from billing.money import MINOR_UNIT_DIGITS
from billing.periods import BillingInterval
from billing.policies import UpgradePreference
from gateway.catalog_spec import CatalogSpec, ProductSpec
from gateway.coupon_checks import coupon_problems


def catalog_problems(spec: CatalogSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if spec.currency not in MINOR_UNIT_DIGITS:
        problems.append(
            ("currency", f"expected one of {sorted(MINOR_UNIT_DIGITS)}, got {spec.currency!r}")
        )
    problems += duplicates("currencies", spec.currencies)
    for i, code in enumerate(spec.currencies):
        if code not in MINOR_UNIT_DIGITS:
            problems.append(
                (f"currencies[{i}]", f"expected one of {sorted(MINOR_UNIT_DIGITS)}, got {code!r}")
            )
    if spec.currencies and spec.currency not in spec.currencies:
        problems.append(("currencies", f"expected to list the default currency {spec.currency!r}"))
    problems += duplicates("products", [p.code for p in spec.products])
    # TAX-1: one rate per country and region, else which applies would be a matter of order.
    rates = spec.taxes.rates
    problems += duplicates("taxes.rates", [(rate.country, rate.region) for rate in rates])
    others = spec.all_currencies[1:]
    for i, product in enumerate(spec.products):
        problems += _product_problems(f"products[{i}]", product)
        problems += _currency_problems(f"products[{i}]", product, spec.currency, others)
    problems += coupon_problems(spec)
    return problems


def _product_problems(at: str, product: ProductSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    intervals = set(product.intervals)
    plan_codes = [plan.code for plan in product.plans]
    problems += duplicates(f"{at}.plans", plan_codes)
    problems += duplicates(f"{at}.add_ons", [a.code for a in product.add_ons])
    problems += duplicates(f"{at}.bundles", [b.code for b in product.bundles])
    problems += duplicates(
        f"{at}.contact_limit_ladder", [s.contact_limit for s in product.contact_limit_ladder]
    )
    all_plans = [(f"{at}.plans[{j}]", plan) for j, plan in enumerate(product.plans)]
    for b, bundle in enumerate(product.bundles):
        problems += duplicates(f"{at}.bundles[{b}].plans", [plan.code for plan in bundle.plans])
        all_plans += [
            (f"{at}.bundles[{b}].plans[{j}]", plan) for j, plan in enumerate(bundle.plans)
        ]
    for where, plan in all_plans:
        problems += _price_problems(f"{where}.prices", plan.prices, intervals)
        for metric in plan.limits:
            if metric not in product.metrics:
                problems.append(
                    (
                        f"{where}.limits.{metric}",
                        f"expected one of the product's metrics {product.metrics}",
                    )
                )
        if (
            plan.seats_included is not None
            and plan.max_seats is not None
            and plan.seats_included > plan.max_seats
        ):
            problems.append(
                (f"{where}.seats_included", f"expected at most max_seats ({plan.max_seats})")
            )
    for j, add_on in enumerate(product.add_ons):
        problems += _price_problems(f"{at}.add_ons[{j}].prices", add_on.prices, intervals)
        if add_on.min_plan is not None and add_on.min_plan not in plan_codes:
            problems.append(
                (f"{at}.add_ons[{j}].min_plan", f"expected one of the plans {plan_codes}")
            )
    for j, step in enumerate(product.contact_limit_ladder):
        problems += _price_problems(
            f"{at}.contact_limit_ladder[{j}].prices", step.prices, intervals
        )
    if product.seat_prices is not None:
        problems += _price_problems(f"{at}.seat_prices", product.seat_prices, intervals)
    problems += _policy_problems(f"{at}.policy", product)
    return problems


def _currency_problems(
    at: str, product: ProductSpec, default: str, others: list[str]
) -> list[tuple[str, str]]:
    """CUR-1: everything priced in the default currency has a price in each other currency the
    catalog declares (for the same intervals), and none in a currency it does not declare."""
    intervals = set(product.intervals)
    priced: list[tuple[str, dict[str, dict[BillingInterval, int]]]] = []
    for j, plan in enumerate(product.plans):
        priced.append((f"{at}.plans[{j}]", plan.prices_in))
    for b, bundle in enumerate(product.bundles):
        for j, plan in enumerate(bundle.plans):
            priced.append((f"{at}.bundles[{b}].plans[{j}]", plan.prices_in))
    for j, add_on in enumerate(product.add_ons):
        priced.append((f"{at}.add_ons[{j}]", add_on.prices_in))
    for j, step in enumerate(product.contact_limit_ladder):
        priced.append((f"{at}.contact_limit_ladder[{j}]", step.prices_in))
    problems: list[tuple[str, str]] = []
    if product.seat_prices is not None:
        priced.append((f"{at}.seat", product.seat_prices_in))
    elif product.seat_prices_in:
        problems.append((f"{at}.seat_prices_in", "unexpected: the product has no seat_prices"))
    for where, prices_in in priced:
        field = "seat_prices_in" if where.endswith(".seat") else "prices_in"
        where = where.removesuffix(".seat")
        problems += _other_currency_problems(f"{where}.{field}", prices_in, default, others)
        for code, prices in prices_in.items():
            if code in others:
                problems += _price_problems(f"{where}.{field}.{code}", prices, intervals)
    on_demand = product.policy.on_demand
    if on_demand is not None:
        problems += _other_currency_problems(
            f"{at}.policy.on_demand.block_prices_in", on_demand.block_prices_in, default, others
        )
    return problems


def _other_currency_problems(
    at: str, prices_in: dict[str, Any], default: str, others: list[str]
) -> list[tuple[str, str]]:
    problems = [
        (at, f"missing the price in {code} (the catalog declares currencies {[default, *others]})")
        for code in others
        if code not in prices_in
    ]
    problems += [
        (
            f"{at}.{code}",
            f"unexpected currency {code!r}: the catalog's currencies are {[default, *others]}"
            if code != default
            else f"unexpected: `prices` are already in the default currency {default}",
        )
        for code in prices_in
        if code not in others
    ]
    return problems


def _policy_problems(at: str, product: ProductSpec) -> list[tuple[str, str]]:
    policy = product.policy
    problems: list[tuple[str, str]] = []
    offered = policy.upgrade_preferences
    if offered and policy.default_preference not in offered:
        problems.append(
            (
                f"{at}.default_preference",
                f"expected one of upgrade_preferences {[p.value for p in offered]}",
            )
        )
    if not offered and policy.default_preference is not None:
        problems.append(
            (
                f"{at}.default_preference",
                "expected no default: the product offers no upgrade preference",
            )
        )
    if policy.alert_thresholds != sorted(set(policy.alert_thresholds)):
        problems.append(
            (f"{at}.alert_thresholds", "expected distinct percentages in ascending order")
        )
    has_on_demand = UpgradePreference.ON_DEMAND in offered
    if has_on_demand and policy.on_demand is None:
        problems.append(
            (
                f"{at}.on_demand",
                "required when ON_DEMAND is offered (metric, block_size, block_price)",
            )
        )
    if policy.on_demand is not None:
        if not has_on_demand:
            problems.append(
                (f"{at}.on_demand", "expected only when upgrade_preferences offers ON_DEMAND")
            )
        if policy.on_demand.metric not in product.metrics:
            problems.append(
                (
                    f"{at}.on_demand.metric",
                    f"expected one of the product's metrics {product.metrics}",
                )
            )
    return problems


def _price_problems(
    at: str, prices: dict[BillingInterval, int], intervals: set[BillingInterval]
) -> list[tuple[str, str]]:
    problems = [
        (at, f"missing the {i.value} price (the product is sold {i.value})")
        for i in sorted(intervals - set(prices))
    ]
    problems += [
        (f"{at}.{i.value}", f"unexpected: the product is not sold {i.value}")
        for i in sorted(set(prices) - intervals)
    ]
    return problems


def duplicates(at: str, values: list[Any]) -> list[tuple[str, str]]:
    seen: set[Any] = set()
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append((f"{at}[{index}]", f"duplicate {value!r}"))
        seen.add(value)
    return problems
