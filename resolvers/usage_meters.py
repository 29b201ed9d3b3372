"""Reading usage: the meters of a billing month against the plan's limits (USE-3, USE-6) and the
usage gate (USE-5), loaded for one organization and decided by billing.usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from billing.limits import OnDemandTerms, on_demand_terms
from billing.periods import billing_month_starting_in, parse_month, shift_months
from billing.usage import GateFacts, GateReason, gate, percent_used
from models import Organization, Subscription, SubscriptionItem, UsageCounter
from resolvers import hot_reads
from resolvers.catalog import CatalogSnapshot
from resolvers.usage_charges import open_usage_month


@dataclass(frozen=True)
class MeterReading:
    product: str
    metric: str
    used: int
    limit: int | None
    percent: int | None
    period_start: datetime
    workspace: str | None
    blocks: int | None  # USE-6: on-demand blocks past the limit, ON_DEMAND only
    block_cost: int | None  # in minor units of the catalog's currency


@dataclass(frozen=True)
class GateAnswer:
    allowed: bool
    reason: GateReason
    used: int
    limit: int | None


async def read_meters(
    organization_id: UUID,
    snapshot: CatalogSnapshot,
    subscription: Subscription | None,
    items: list[SubscriptionItem],
    month: str | None,
    workspace: str | None,
) -> list[MeterReading]:
    """`subscription` and its `items` as the request's DataLoaders read them (the billing page
    asks for them in other fields too: one read each)."""
    if subscription is None:
        return []
    if month is None:
        period_start, _ = open_usage_month(subscription)
    else:
        period_start = await period_in_month(organization_id, subscription, month)
    used = await hot_reads.used_in_period(organization_id, period_start, workspace)
    snapshot = snapshot.in_currency(subscription.currency)  # CUR-1
    result = []
    for item in sorted(items, key=lambda i: i.product_id):
        product = snapshot.product(item.product_id)
        limits = snapshot.plans_by_id[item.plan_id].limits
        policy = snapshot.policies[item.product_id]
        on_demand = on_demand_terms(item.upgrade_preference, policy, limits)
        for metric in product.metrics:
            value = used.get((product.id, metric), 0)
            limit = limits.get(metric)
            result.append(
                MeterReading(
                    product=product.code,
                    metric=metric,
                    used=value,
                    limit=limit,
                    percent=percent_used(value, limit),
                    period_start=period_start,
                    workspace=workspace,
                    **_on_demand(on_demand, metric, value),
                )
            )
    return result


def _on_demand(terms: OnDemandTerms | None, metric: str, used: int) -> dict[str, Any]:
    if terms is None or terms.metric != metric:
        return {"blocks": None, "block_cost": None}
    charge = terms.charge(used)
    return {"blocks": charge.blocks, "block_cost": charge.amount}


async def period_in_month(
    organization_id: UUID, subscription: Subscription, month: str
) -> datetime:
    """USE-3: the billing month that started in that calendar month: the one its counters were
    kept under, or, where nothing was counted, the one the anchor steps to (all meters zero)."""
    year, number = parse_month(month)
    start = datetime(year, number, 1, tzinfo=UTC)
    counter = (
        await UsageCounter.filter(
            organization_id=organization_id,
            period_start__gte=start,
            period_start__lt=shift_months(start, 1),
        )
        .order_by("period_start")
        .first()
    )
    if counter is not None:
        return counter.period_start
    return billing_month_starting_in(subscription.billing_anchor, year, number)


async def gate_usage(
    organization: Organization,
    snapshot: CatalogSnapshot,
    product: str,
    metric: str,
    quantity: int,
) -> GateAnswer:
    found = await hot_reads.subscription_and_items(organization.id)  # one statement
    subscription = found[0] if found else None
    product_row = snapshot.product_by_code(product)
    item = (
        next((i for i in found[1] if i.product_id == product_row.id), None)
        if found and product_row
        else None
    )
    if subscription is None or item is None or product_row is None:
        paused = organization.automatic_charges_paused
        decision = gate(GateFacts(None, 0, None, automatic_charges_paused=paused), quantity)
        return GateAnswer(decision.allowed, decision.reason, 0, None)
    month_start, _ = open_usage_month(subscription)
    used = (await hot_reads.used_in_period(organization.id, month_start, None)).get(
        (product_row.id, metric), 0
    )

    plan = snapshot.plans_by_id[item.plan_id]
    limit = plan.limits.get(metric)
    facts = GateFacts(
        subscription.status,
        used,
        limit,
        item.upgrade_preference,
        organization.automatic_charges_paused,
        higher_tier=snapshot.next_tier(plan) is not None,
    )
    decision = gate(facts, quantity)

    return GateAnswer(decision.allowed, decision.reason, used, limit)
