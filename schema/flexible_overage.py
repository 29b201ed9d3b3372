"""PREF-1: what one flexible-overage purchase of a subscription item buys and costs, so a billing
page can show the choice's cost before it is made."""

from __future__ import annotations

import strawberry

from billing import money
from billing.catalog import CatalogSnapshot, Plan
from billing.policies import UpgradePreference
from billing.usage import flexible_overage
from schema.common import Money


@strawberry.type(
    description=(
        "PREF-1: one flexible-overage purchase: the next tier's extra volume of a metric at this "
        "tier's unit rate, charged once each time it is bought."
    )
)
class FlexibleOverage:
    metric: str
    volume: int
    amount: Money


def flexible_overages(
    snapshot: CatalogSnapshot, plan: Plan, plan_price: money.Money
) -> list[FlexibleOverage]:
    """Per limited metric, at the item's own price version (CAT-6); none when the product does
    not offer FLEXIBLE_OVERAGE or the plan is its highest tier."""
    policy = snapshot.policies.get(plan.product_id)
    if policy is None or UpgradePreference.FLEXIBLE_OVERAGE not in policy.upgrade_preferences:
        return []
    following = snapshot.next_tier(plan)
    if following is None:
        return []
    overages = []
    for metric, limit in sorted(plan.limits.items()):
        next_limit = following.limits.get(metric)
        if next_limit is None or not 0 < limit < next_limit:
            continue
        overage = flexible_overage(limit, next_limit, plan_price.amount)
        amount = money.Money(overage.amount, plan_price.currency)
        overages.append(
            FlexibleOverage(metric=metric, volume=overage.volume, amount=Money.from_domain(amount))
        )
    return overages
