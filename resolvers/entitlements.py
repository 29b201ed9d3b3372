"""Loading an organization's entitlements (EVT-2) in two SQL statements: its subscription lines
with their subscription, then this billing month's counters; billing.entitlements decides."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from billing.entitlements import LineFacts, ProductEntitlements, StandingFacts, entitlements
from billing.subscription_status import SubscriptionStatus
from models import SubscriptionItem
from resolvers.catalog import CatalogSnapshot
from resolvers.usage import usage_in_period
from resolvers.usage_charges import open_usage_month


@dataclass(frozen=True)
class Entitlements:
    status: SubscriptionStatus | None  # None: no subscription
    products: list[ProductEntitlements]


async def load_entitlements(organization_id: UUID, snapshot: CatalogSnapshot) -> Entitlements:
    items = await SubscriptionItem.filter(
        subscription__organization_id=organization_id
    ).select_related("subscription__organization")
    if not items:
        return Entitlements(None, [])
    subscription = items[0].subscription
    month_start, month_end = open_usage_month(subscription)
    used = await usage_in_period(organization_id, month_start, None)
    lines = [_line(item, snapshot) for item in items]
    paused = subscription.organization.automatic_charges_paused  # DUN-5
    facts = StandingFacts(subscription.status, paused, month_end, used)
    return Entitlements(subscription.status, entitlements(lines, facts))


def _line(item: SubscriptionItem, snapshot: CatalogSnapshot) -> LineFacts:
    plan = snapshot.plans_by_id[item.plan_id]
    return LineFacts(
        product=snapshot.product(item.product_id),
        plan=plan,
        product_plans=snapshot.plans_by_product.get(item.product_id, []),
        preference=item.upgrade_preference,
        stock=dict(item.stock),
        higher_tier=snapshot.next_tier(plan) is not None,
    )
