"""The item a provisioned trial starts with (SUB-2): the plan at its current price, the ladder's
first step and the plan's included seats where the product prices them."""

from __future__ import annotations

from dataclasses import dataclass

from billing.errors import BillingError
from billing.periods import BillingInterval
from models import ContactLimitStep, Plan, Price, Product, Subscription, SubscriptionItem


@dataclass(frozen=True)
class TrialPlan:
    product: str
    plan: str
    bundle: str | None = None


async def _current_price(key_prefix: str, interval: BillingInterval, currency: str) -> Price | None:
    """CUR-1: in the subscription's currency ("plan:12:MONTHLY" in the catalog's default one,
    "plan:12:MONTHLY:EUR" in another)."""
    key = f"{key_prefix}:{interval.value}"
    return await Price.filter(
        key__in=[key, f"{key}:{currency}"], currency=currency, is_current=True
    ).first()


async def _plan(wanted: TrialPlan) -> tuple[Product, Plan]:
    product = await Product.get_or_none(code=wanted.product).prefetch_related("policy")
    if product is None:
        codes = await Product.all().order_by("position").values_list("code", flat=True)
        raise BillingError(
            f"No product {wanted.product!r}: choose one of {list(codes)}.", field="product"
        )
    plan = (
        await Plan.get_or_none(product=product, bundle__code=wanted.bundle, code=wanted.plan)
        if wanted.bundle
        else await Plan.get_or_none(product=product, bundle_id=None, code=wanted.plan)
    )
    if plan is None:
        codes = await Plan.filter(product=product).values_list("code", flat=True)
        raise BillingError(
            f"No plan {wanted.plan!r} in {product.code}: choose one of {sorted(set(codes))}.",
            field="plan",
        )
    return product, plan


async def create_trial_item(subscription: Subscription, wanted: TrialPlan) -> SubscriptionItem:
    product, plan = await _plan(wanted)
    interval, currency = subscription.billing_interval, subscription.currency
    plan_price = await _current_price(f"plan:{plan.id}", interval, currency)
    if plan_price is None:
        raise BillingError(
            f"{plan.name} has no current {interval.value.lower()} price.", field="plan"
        )
    step = await ContactLimitStep.filter(product=product).order_by("contact_limit").first()
    step_price = (
        await _current_price(f"contact_limit:{step.id}", interval, currency) if step else None
    )
    seat_price = await _current_price(f"seat:{product.id}", interval, currency)
    return await SubscriptionItem.create(
        subscription=subscription,
        product=product,
        plan=plan,
        plan_price=plan_price,
        seats=(plan.seats_included or 1) if seat_price else None,
        seat_price=seat_price,
        contact_limit=step.contact_limit if step else None,
        contact_limit_price=step_price,
        upgrade_preference=product.policy.default_preference,
    )
