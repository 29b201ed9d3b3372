"""Entitlements (rule EVT-2): what an organization's plans let it do now, decided from facts the
caller loads: every feature of its products' plans (enabled by the current plan or not), and every
metered limit with its use, what is left, when the count resets, and the usage gate's answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from billing.catalog import Plan, Product
from billing.metrics import MetricKind, metric_kind
from billing.policies import UpgradePreference
from billing.subscription_status import SubscriptionStatus
from billing.usage import GateFacts, GateReason, gate


@dataclass(frozen=True)
class FeatureEntitlement:
    feature: str
    enabled: bool


@dataclass(frozen=True)
class LimitEntitlement:
    metric: str
    limit: int | None  # None: not limited by the plan
    used: int
    remaining: int | None
    resets_at: datetime | None  # None for what is stored (STOCK): it does not reset
    allowed: bool  # may one more be used now (USE-5)
    reason: GateReason


@dataclass(frozen=True)
class ProductEntitlements:
    product: str
    plan: str
    plan_name: str
    features: tuple[FeatureEntitlement, ...]
    limits: tuple[LimitEntitlement, ...]


@dataclass(frozen=True)
class LineFacts:
    """One subscription line: its product, current plan, the product's plans from lowest rank,
    its upgrade preference and what is stored now for stock metrics."""

    product: Product
    plan: Plan
    product_plans: Sequence[Plan]
    preference: UpgradePreference | None
    stock: Mapping[str, int]
    higher_tier: bool  # CatalogSnapshot.next_tier: what an acting preference could buy


@dataclass(frozen=True)
class StandingFacts:
    status: SubscriptionStatus
    automatic_charges_paused: bool
    month_end: datetime  # when this billing month's counters reset
    used: Mapping[tuple[int, str], int]  # (product id, metric) -> counted this billing month


def entitlements(lines: Sequence[LineFacts], facts: StandingFacts) -> list[ProductEntitlements]:
    return [_product(line, facts) for line in sorted(lines, key=lambda line: line.product.position)]


def _product(line: LineFacts, facts: StandingFacts) -> ProductEntitlements:
    return ProductEntitlements(
        product=line.product.code,
        plan=line.plan.code,
        plan_name=line.plan.name,
        features=features(line.plan, line.product_plans),
        limits=tuple(_limit(line, metric, facts) for metric in line.product.metrics),
    )


def features(plan: Plan, product_plans: Sequence[Plan]) -> tuple[FeatureEntitlement, ...]:
    """Every feature any plan of the product offers, in the order the tiers introduce them."""
    seen: dict[str, None] = {}
    for candidate in (*product_plans, plan):
        seen.update(dict.fromkeys(candidate.features))
    current = set(plan.features)
    return tuple(FeatureEntitlement(name, name in current) for name in seen)


def _limit(line: LineFacts, metric: str, facts: StandingFacts) -> LimitEntitlement:
    stock = metric_kind(metric) is MetricKind.STOCK
    counted = facts.used.get((line.product.id, metric), 0)
    # A stock metric is what is stored now (kept on the line), not this month's count (CHG-1).
    used = line.stock.get(metric, counted) if stock else counted
    limit = line.plan.limits.get(metric)
    decision = gate(
        GateFacts(
            facts.status,
            used,
            limit,
            line.preference,
            facts.automatic_charges_paused,
            higher_tier=line.higher_tier,
        ),
        1,
    )
    return LimitEntitlement(
        metric=metric,
        limit=limit,
        used=used,
        remaining=None if limit is None else max(0, limit - used),
        resets_at=None if stock else facts.month_end,
        allowed=decision.allowed,
        reason=decision.reason,
    )
