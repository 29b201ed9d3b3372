"""Loading an organization's entitlements (EVT-2) in two SQL statements: its subscription lines
with their subscription, then this billing month's counters; billing.entitlements decides."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from billing.entitlements import LineFacts, ProductEntitlements, StandingFacts, entitlements
from billing.periods import BillingInterval
from billing.policies import UpgradePreference
from billing.subscription_status import SubscriptionStatus
from models import Subscription, SubscriptionItem
from resolvers.catalog import CatalogSnapshot
from resolvers.usage import usage_in_period
from resolvers.usage_charges import open_usage_month


@dataclass(frozen=True)
class Entitlements:
    status: SubscriptionStatus | None  # None: no subscription
    products: list[ProductEntitlements]


# One statement: the lines with what the decision needs of their subscription and organization
# (values(), as PostgreSQL cuts the longer column aliases of a two-level select_related).
_SUBSCRIPTION_FIELDS = (
    "status",
    "billing_anchor",
    "billing_interval",
    "current_period_start",
    "current_period_end",
    "usage_closed_until",
)


async def load_entitlements(organization_id: UUID, snapshot: CatalogSnapshot) -> Entitlements:
    rows = await SubscriptionItem.filter(subscription__organization_id=organization_id).values(
        "plan_id",
        "product_id",
        "upgrade_preference",
        "stock",
        paused="subscription__organization__automatic_charges_paused",
        **{name: f"subscription__{name}" for name in _SUBSCRIPTION_FIELDS},
    )
    if not rows:
        return Entitlements(None, [])
    subscription = Subscription(**{name: rows[0][name] for name in _SUBSCRIPTION_FIELDS})
    subscription.status = SubscriptionStatus(subscription.status)
    subscription.billing_interval = BillingInterval(subscription.billing_interval)
    month_start, month_end = open_usage_month(subscription)
    used = await usage_in_period(organization_id, month_start, None)
    lines = [_line(row, snapshot) for row in rows]
    facts = StandingFacts(subscription.status, bool(rows[0]["paused"]), month_end, used)  # DUN-5
    return Entitlements(subscription.status, entitlements(lines, facts))


def _line(row: dict[str, Any], snapshot: CatalogSnapshot) -> LineFacts:
    plan = snapshot.plans_by_id[row["plan_id"]]
    preference = row["upgrade_preference"]
    return LineFacts(
        product=snapshot.product(row["product_id"]),
        plan=plan,
        product_plans=snapshot.plans_by_product.get(row["product_id"], []),
        preference=UpgradePreference(preference) if preference else None,
        stock=_stock(row["stock"]),
        higher_tier=snapshot.next_tier(plan) is not None,
    )


def _stock(value: Any) -> dict[str, int]:
    data = json.loads(value) if isinstance(value, str | bytes) else value
    return dict(data or {})
