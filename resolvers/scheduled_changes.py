"""Scheduled changes of product lines (CHG-6, INT-1): read from, written to and applied on the
subscription items they belong to. The value itself is billing.scheduled_change."""

from __future__ import annotations

from collections.abc import Iterable

from billing.periods import BillingInterval
from billing.scheduled_change import ScheduledChange, ScheduledKind, has_downgrade
from billing.subscription_status import Event, SubscriptionStatus, transition
from models import SubscriptionItem
from resolvers.subscription_state import ItemTerms, LoadedSubscription


def scheduled_change_of(item: SubscriptionItem) -> ScheduledChange | None:
    return ScheduledChange.from_json(item.scheduled_change) if item.scheduled_change else None


def scheduled_changes(items: Iterable[SubscriptionItem]) -> dict[int, ScheduledChange]:
    """By product id, the lines that have one."""
    changes = {item.product_id: scheduled_change_of(item) for item in items}
    return {product_id: change for product_id, change in changes.items() if change is not None}


async def scheduled_changes_of(subscription_id: object) -> dict[int, ScheduledChange]:
    items = await SubscriptionItem.filter(subscription_id=subscription_id).order_by("product_id")
    return scheduled_changes(items)


async def set_scheduled_change(item: SubscriptionItem, change: ScheduledChange | None) -> None:
    item.scheduled_change = change.to_json() if change is not None else None
    await item.save(update_fields=["scheduled_change"])


async def schedule_interval_switch(
    loaded: LoadedSubscription, interval: BillingInterval, terms: Iterable[ItemTerms]
) -> None:
    """INT-1: paid now; every line switches to the longer interval when the period ends."""
    for item_terms in terms:
        change = ScheduledChange(ScheduledKind.INTERVAL, item_terms.to_json(), interval)
        await set_scheduled_change(loaded.items[item_terms.product_id], change)


async def drop_replaced_downgrade(loaded: LoadedSubscription, product_id: int) -> None:
    """CHG-6: a change made now to a line replaces the downgrade scheduled for it; the
    subscription is ACTIVE again when no line has one left."""
    item = await SubscriptionItem.get_or_none(subscription_id=loaded.row.id, product_id=product_id)
    if item is None or item.scheduled_change is None:
        return
    await set_scheduled_change(item, None)
    row = loaded.row
    left = await scheduled_changes_of(row.id)
    if row.status is SubscriptionStatus.DOWNGRADING and not has_downgrade(left.values()):
        row.status = transition(row.status, Event.SCHEDULED_DOWNGRADES_REPLACED)
        await row.save(update_fields=["status", "updated_at"])
