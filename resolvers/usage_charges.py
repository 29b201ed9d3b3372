"""Usage that is billed as money: on-demand blocks past the limit (USE-6), for the monthly usage
invoice and for an upgrade that starts a new period early (CHG-4). Usage is counted per billing
month, even on longer periods (USE-2, INV-4)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from billing.errors import BillingError
from billing.limits import on_demand_terms
from billing.periods import usage_month
from billing.quote import Line
from models import ALL_WORKSPACES, Subscription, SubscriptionItem, UsageCounter
from resolvers import hot_reads
from resolvers.catalog import CatalogSnapshot


def no_subscription() -> BillingError:
    return BillingError("This organization has no subscription to record usage against.")


def open_usage_month(subscription: Subscription) -> tuple[datetime, datetime]:
    """The billing month that usage is counted in now: [start, end)."""
    return usage_month(
        subscription.billing_anchor,
        subscription.billing_interval,
        subscription.current_period_start,
        subscription.current_period_end,
        subscription.usage_closed_until,
    )


async def used_in_period(
    organization_id: UUID, product_id: int, metric: str, period_start: datetime
) -> int:
    counter = await UsageCounter.get_or_none(
        organization_id=organization_id,
        product_id=product_id,
        metric=metric,
        period_start=period_start,
        workspace=ALL_WORKSPACES,
    )
    return counter.value if counter else 0


async def on_demand_charges(
    organization_id: UUID,
    subscription: Subscription,
    snapshot: CatalogSnapshot,
    items: Iterable[SubscriptionItem] | None = None,
) -> list[Line]:
    """USE-6: blocks past the limit in the open billing month, for its usage invoice (or a
    reset). `items`: the subscription's items, when the caller has read them; the counters of
    every line billed on demand are read in one statement."""
    month_start, month_end = open_usage_month(subscription)
    snapshot = snapshot.in_currency(subscription.currency)  # CUR-1
    if items is None:
        items = await SubscriptionItem.filter(subscription_id=subscription.id)
    billed = []
    for item in items:
        plan = snapshot.plans_by_id[item.plan_id]
        policy = snapshot.policies[item.product_id]
        terms = on_demand_terms(item.upgrade_preference, policy, plan.limits)
        if terms is not None:
            billed.append((item.product_id, plan, terms))
    if not billed:
        return []
    used = await _used_in_month(organization_id, [(p, t.metric) for p, _, t in billed], month_start)
    lines = []
    for product_id, plan, terms in billed:
        value = used.get((product_id, terms.metric), 0)
        charge = terms.charge(value)
        if charge.blocks:
            description = terms.describe(charge, value, plan.name)
            lines.append(Line(description, charge.amount, month_start, month_end))
    return lines


async def _used_in_month(
    organization_id: UUID, metrics: list[tuple[int, str]], period_start: datetime
) -> dict[tuple[int, str], int]:
    """used_in_period for several (product, metric) pairs at once."""
    wanted = set(metrics)
    used = await hot_reads.used_in_period(organization_id, period_start, None)
    return {key: value for key, value in used.items() if key in wanted}


async def subscription_and_items(
    organization_id: UUID,
) -> tuple[Subscription, dict[int, SubscriptionItem]]:
    """The subscription and its items by product id, in one statement."""
    found = await hot_reads.subscription_and_items(organization_id)
    if found is None:
        raise no_subscription()
    subscription, rows = found
    return subscription, {row.product_id: row for row in rows}
