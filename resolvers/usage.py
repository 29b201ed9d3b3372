"""Recording usage (USE-1, USE-2) and reading it against limits (USE-3, USE-5).

A batch is validated whole before anything is written: one bad event refuses the batch, so no
batch is ever half applied. A resent event (same id) counts once. Counters are kept as events
arrive, so reading usage never scans the events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.errors import BillingError
from billing.quote import STOCK_METRICS
from billing.usage import crossed_thresholds
from models import (
    ALL_WORKSPACES,
    ActiveContact,
    Organization,
    Subscription,
    SubscriptionItem,
    UsageCounter,
    UsageEvent,
    Workspace,
)
from payments.port import PaymentProcessor
from resolvers.catalog import CatalogSnapshot
from resolvers.payments import notify
from resolvers.usage_actions import act_on_limits
from resolvers.usage_charges import open_usage_month

MAX_BATCH = 1000
CLOCK_SKEW = timedelta(minutes=5)
DISTINCT_CONTACT_METRICS = frozenset({"mac"})


@dataclass(frozen=True)
class EventInput:
    event_id: str
    product: str
    metric: str
    quantity: int | None = None
    contact_id: str | None = None
    workspace: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    accepted: int
    duplicates: int


class BatchRefused(BillingError):
    def __init__(self, problems: list[tuple[int, str, str]]) -> None:
        index, field, message = problems[0]
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(
            f"events[{index}].{field}: {message}{more}. Nothing in this batch was recorded.",
            field=f"events[{index}].{field}",
        )
        self.problems = problems


@dataclass(frozen=True)
class _Checked:
    event: EventInput
    product_id: int
    workspace: str
    occurred_at: datetime


async def record_usage(
    organization_id: UUID,
    events: list[EventInput],
    snapshot: CatalogSnapshot,
    base_now: datetime,
    processor: PaymentProcessor,
) -> Recorded:
    if not 1 <= len(events) <= MAX_BATCH:
        raise BillingError(
            f"Send from 1 to {MAX_BATCH} events per batch, not {len(events)}.", field="events"
        )
    async with in_transaction():
        organization = await Organization.filter(id=organization_id).select_for_update().get()
        now = offset(base_now, organization.clock_offset_seconds)
        subscription = await Subscription.get_or_none(organization_id=organization_id)
        if subscription is None:
            raise BillingError("This organization has no subscription to record usage against.")
        month_start, _ = open_usage_month(subscription)
        checked = await _check(organization_id, subscription, month_start, events, snapshot, now)
        unique = {
            c.event.event_id: c for c in checked
        }  # the same id twice in one batch counts once
        known = set(
            cast(
                list[str],
                await UsageEvent.filter(
                    organization_id=organization_id, event_id__in=list(unique)
                ).values_list("event_id", flat=True),
            )
        )
        new = [c for event_id, c in unique.items() if event_id not in known]
        period = month_start
        await UsageEvent.bulk_create(
            [
                UsageEvent(
                    organization_id=organization_id,
                    event_id=c.event.event_id,
                    product_id=c.product_id,
                    metric=c.event.metric,
                    quantity=c.event.quantity or 0,
                    contact_id=c.event.contact_id,
                    workspace=c.workspace,
                    occurred_at=c.occurred_at,
                    period_start=period,
                    received_at=now,
                )
                for c in new
            ]
        )
        await _count(organization_id, period, new)
        touched = {(c.product_id, c.event.metric) for c in new}
        await _notify_thresholds(organization_id, subscription, period, snapshot, touched, now)
        await act_on_limits(organization, subscription, snapshot, touched, base_now, now, processor)
        return Recorded(accepted=len(new), duplicates=len(events) - len(new))


async def _notify_thresholds(
    organization_id: UUID,
    subscription: Subscription,
    month_start: datetime,
    snapshot: CatalogSnapshot,
    touched: set[tuple[int, str]],
    now: datetime,
) -> None:
    """USE-4: owners and billing admins are told once per billing month per threshold (the
    period, on monthly plans)."""
    items = {
        i.product_id: i for i in await SubscriptionItem.filter(subscription_id=subscription.id)
    }
    for product_id, metric in sorted(touched):
        limit = snapshot.plans_by_id[items[product_id].plan_id].limits.get(metric)
        thresholds = snapshot.policies[product_id].alert_thresholds
        counter = await UsageCounter.get_or_none(
            organization_id=organization_id,
            product_id=product_id,
            metric=metric,
            period_start=month_start,
            workspace=ALL_WORKSPACES,
        )
        if counter is None or not limit:
            continue
        crossed = crossed_thresholds(counter.value, limit, thresholds, counter.notified_thresholds)
        if not crossed:
            continue
        product = next(p for p in snapshot.products if p.id == product_id)
        for threshold in crossed:
            await notify(
                organization_id,
                "USAGE_THRESHOLD",
                f"{product.name}: {counter.value:,} of {limit:,} {metric} used this billing month "
                f"({threshold} % reached).",
                now,
            )
        counter.notified_thresholds = sorted({*counter.notified_thresholds, *crossed})
        await counter.save(update_fields=["notified_thresholds"])


async def _check(
    organization_id: UUID,
    subscription: Subscription,
    month_start: datetime,
    events: list[EventInput],
    snapshot: CatalogSnapshot,
    now: datetime,
) -> list[_Checked]:
    subscribed = set(
        cast(
            list[int],
            await SubscriptionItem.filter(subscription_id=subscription.id).values_list(
                "product_id", flat=True
            ),
        )
    )
    workspaces = set(
        cast(
            list[str],
            await Workspace.filter(organization_id=organization_id).values_list("slug", flat=True),
        )
    )
    products = {p.code: p for p in snapshot.products}
    problems: list[tuple[int, str, str]] = []
    checked: list[_Checked] = []
    for index, event in enumerate(events):
        product = products.get(event.product)
        if not event.event_id.strip():
            problems.append((index, "id", "an event needs a unique id"))
        if product is None or product.id not in subscribed:
            problems.append(
                (index, "product", f"{event.product!r} is not a product of this subscription")
            )
            continue
        if event.metric not in product.metrics:
            problems.append(
                (index, "metric", f"{event.product} meters {product.metrics}, not {event.metric!r}")
            )
        if event.metric in DISTINCT_CONTACT_METRICS and not event.contact_id:
            problems.append(
                (
                    index,
                    "contactId",
                    f"{event.metric} counts distinct contacts: give the contact's id",
                )
            )
        if event.metric not in DISTINCT_CONTACT_METRICS and (
            event.quantity is None or event.quantity < 0
        ):
            problems.append(
                (index, "quantity", f"expected a whole number of 0 or more, got {event.quantity}")
            )
        if event.workspace is not None and event.workspace not in workspaces:
            problems.append(
                (index, "workspace", f"no workspace {event.workspace!r} in this organization")
            )
        occurred_at = event.occurred_at or now
        if occurred_at < month_start:
            problems.append((index, "occurredAt", "the billing month it belongs to is closed"))

        if occurred_at > now + CLOCK_SKEW:
            problems.append((index, "occurredAt", "it is in the future"))
        checked.append(_Checked(event, product.id, event.workspace or "", occurred_at))
    if problems:
        raise BatchRefused(problems)
    return checked


async def _count(organization_id: UUID, period: datetime, new: list[_Checked]) -> None:
    additions: dict[tuple[int, str, str], int] = defaultdict(int)
    gauges: dict[tuple[int, str, str], tuple[datetime, int]] = {}
    contacts: dict[tuple[int, str], set[str]] = defaultdict(set)
    for c in new:
        metric = c.event.metric
        for workspace in (c.workspace, ALL_WORKSPACES):
            key = (c.product_id, metric, workspace)
            if metric in DISTINCT_CONTACT_METRICS:
                contacts[(c.product_id, workspace)].add(str(c.event.contact_id))
            elif metric in STOCK_METRICS:  # what is stored now: the latest report wins
                if key not in gauges or gauges[key][0] <= c.occurred_at:
                    gauges[key] = (c.occurred_at, c.event.quantity or 0)
            else:
                additions[key] += c.event.quantity or 0
    for (product_id, workspace), ids in contacts.items():
        seen = set(
            cast(
                list[str],
                await ActiveContact.filter(
                    organization_id=organization_id,
                    product_id=product_id,
                    period_start=period,
                    workspace=workspace,
                    contact_id__in=list(ids),
                ).values_list("contact_id", flat=True),
            )
        )
        fresh = sorted(ids - seen)
        await ActiveContact.bulk_create(
            [
                ActiveContact(
                    organization_id=organization_id,
                    product_id=product_id,
                    period_start=period,
                    workspace=workspace,
                    contact_id=contact,
                )
                for contact in fresh
            ]
        )
        additions[(product_id, "mac", workspace)] += len(fresh)
    for (product_id, metric, workspace), delta in additions.items():
        counter = await _counter(organization_id, product_id, metric, period, workspace)
        await UsageCounter.filter(id=counter.id).update(value=F("value") + delta)
    for (product_id, metric, workspace), (_, value) in gauges.items():
        counter = await _counter(organization_id, product_id, metric, period, workspace)
        await UsageCounter.filter(id=counter.id).update(value=value)
        if workspace == ALL_WORKSPACES:
            await _update_stock(organization_id, product_id, metric, value)


async def _counter(
    organization_id: UUID, product_id: int, metric: str, period: datetime, workspace: str
) -> UsageCounter:
    counter, _ = await UsageCounter.get_or_create(
        organization_id=organization_id,
        product_id=product_id,
        metric=metric,
        period_start=period,
        workspace=workspace,
    )
    return counter


async def _update_stock(organization_id: UUID, product_id: int, metric: str, value: int) -> None:
    # CHG-1 blockers read what is stored now from the subscription item.
    item = await SubscriptionItem.get_or_none(
        subscription__organization_id=organization_id, product_id=product_id
    )
    if item is not None:
        item.stock = {**item.stock, metric: value}
        await item.save(update_fields=["stock"])


async def usage_in_period(
    organization_id: UUID, period_start: datetime, workspace: str | None
) -> dict[tuple[int, str], int]:
    """(product id, metric) -> used, for all workspaces or one."""
    rows = await UsageCounter.filter(
        organization_id=organization_id,
        period_start=period_start,
        workspace=workspace or ALL_WORKSPACES,
    )
    return {(row.product_id, row.metric): row.value for row in rows}
