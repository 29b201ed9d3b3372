"""Recording usage (USE-1, USE-2) and reading it against limits (USE-3, USE-5).

A batch is validated whole before anything is written: one bad event refuses the batch, so no
batch is ever half applied. A resent event (same id) counts once. Counters are kept as events
arrive, so reading usage never scans the events."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.errors import BillingError
from billing.limits import LimitAction, LimitFacts, action_at_limit, blocks_at_limit
from billing.metrics import (
    DISTINCT_CONTACT_METRIC,
    STOCK_METRICS,
    MetricKind,
    event_problem,
    metric_kind,
)
from billing.notifications import NotificationKind
from billing.usage import crossed_thresholds, threshold_notice
from billing.webhooks import EventType
from models import (
    ALL_WORKSPACES,
    SubscriptionItem,
    UsageCounter,
)
from payments.port import PaymentProcessor
from resolvers import usage_store
from resolvers.catalog import CatalogSnapshot
from resolvers.locks import is_postgres
from resolvers.notices import notify
from resolvers.usage_actions import LimitsTouched, act_on_limits_recorded, bought_volume
from resolvers.usage_batch import read_under_lock
from resolvers.usage_charges import open_usage_month
from resolvers.webhook_events import record_event
from resolvers.work_metrics import USAGE_EVENTS

log = logging.getLogger("billing_gateway.usage")
MAX_BATCH = 1000
CLOCK_SKEW = timedelta(minutes=5)


class EventInput(NamedTuple):
    """One event as sent (a named tuple: cheaper to build than a frozen dataclass)."""

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
class _Batch:
    """One batch's organization, its subscription's items by product id, and its billing month."""

    organization_id: UUID
    items: dict[int, SubscriptionItem]
    month_start: datetime
    snapshot: CatalogSnapshot
    now: datetime

    def limit(self, product_id: int, metric: str) -> int | None:
        return self.snapshot.plans_by_id[self.items[product_id].plan_id].limits.get(metric)


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
    # Batches of counted metrics share the organization's lock (resolvers.locks): they wait on
    # each other only at the rows they write. The billing clock and plan changes hold it
    # exclusively, so the open month cannot close under a batch. A stock metric rewrites the
    # subscription item's stored value, so its batch takes the lock exclusively too.
    exclusive = any(e.metric in STOCK_METRICS for e in events)
    async with in_transaction() as connection:
        reads = await read_under_lock(connection, organization_id, events, exclusive=exclusive)
        locked = reads.lock
        month = open_usage_month(reads.subscription)
        now = offset(base_now, locked.clock_offset_seconds)
        batch = _Batch(organization_id, reads.items, month[0], snapshot, now)
        checked = _check(events, batch, reads.workspaces)
        # The same id twice in one batch counts once. Sorted, so that two batches resending the
        # same ids wait on them in one order and never on each other.
        unique = {c.event_id: c for c in sorted(checked, key=lambda c: c.event_id)}
        if is_postgres(connection) and not exclusive:  # no stock metric: counted by PostgreSQL
            accepted, totals = await _record_and_count(connection, batch, list(unique.values()))
        else:
            stored = await usage_store.insert_new_events(
                connection, organization_id, month[0], now, list(unique.values())
            )
            new = [c for event_id, c in unique.items() if event_id in stored]
            accepted, totals = len(new), await _count(connection, batch, new)
        await _notify_thresholds(batch, totals)
        await _limits_reached(batch, totals)
        over = await _past_acting_limits(batch, totals)
    USAGE_EVENTS.inc(accepted)
    if over and not locked.automatic_charges_paused:
        # In a transaction of its own, under the exclusive lock: the usage above is recorded
        # whatever the automatic charge does, and two batches past the limit at once act once.
        try:
            await act_on_limits_recorded(
                organization_id, LimitsTouched(over, month), snapshot, base_now, processor
            )
        except Exception:
            # The batch is recorded and its answer stays true; the next batch past the limit
            # tries the action again.
            log.exception("automatic action for %s after recording usage failed", organization_id)
    return Recorded(accepted=accepted, duplicates=len(events) - accepted)


async def _past_acting_limits(
    batch: _Batch, totals: dict[tuple[int, str], usage_store.CounterState]
) -> set[tuple[int, str]]:
    """The (product id, metric) past the plan's limit and the volume bought this month, whose
    preference acts there (billing.limits); on the highest tier, only until its billing managers
    were told. Purchases are made under the exclusive lock, so the volume read here is settled."""
    over: set[tuple[int, str]] = set()
    for (product_id, metric), counter in totals.items():
        item = batch.items[product_id]
        plan = batch.snapshot.plans_by_id[item.plan_id]
        facts = LimitFacts(
            item.upgrade_preference,
            counter.value,
            plan.limits.get(metric),
            higher_tier=batch.snapshot.next_tier(plan) is not None,
            highest_tier_told=counter.limit_notified,
        )
        action = action_at_limit(facts)
        if action is not LimitAction.NOTHING:
            bought = await bought_volume(
                batch.organization_id, product_id, metric, batch.month_start
            )
            action = action_at_limit(replace(facts, bought=bought))
        if action is not LimitAction.NOTHING:
            over.add((product_id, metric))
    return over


async def _limits_reached(
    batch: _Batch, totals: dict[tuple[int, str], usage_store.CounterState]
) -> None:
    """EVT-1: once per billing month, when a line that does not act at its limit is blocked there
    (a conditional update, so two batches at once send it once)."""
    for (product_id, metric), counter in sorted(totals.items()):
        item = batch.items[product_id]
        limit = batch.limit(product_id, metric)
        if counter.limit_event_sent or not blocks_at_limit(
            item.upgrade_preference, counter.value, limit
        ):
            continue  # sent already: read with the counter, no statement to find out again
        first = await UsageCounter.filter(
            organization_id=batch.organization_id,
            product_id=product_id,
            metric=metric,
            period_start=batch.month_start,
            workspace=ALL_WORKSPACES,
            limit_event_sent=False,
        ).update(limit_event_sent=True)
        if first:
            plan = batch.snapshot.plans_by_id[item.plan_id]
            product = batch.snapshot.product(product_id).code
            usage = {"product": product, "plan": plan.code, "metric": metric, "limit": limit}
            data = {**usage, "outbound_blocked": True}
            await record_event(
                batch.organization_id, EventType.USAGE_LIMIT_REACHED, data, batch.now
            )


async def _notify_thresholds(
    batch: _Batch, totals: dict[tuple[int, str], usage_store.CounterState]
) -> None:
    """USE-4: owners and billing admins are told once per billing month per threshold (the
    period, on monthly plans), in one notice naming every threshold a batch crossed."""
    for (product_id, metric), counter in sorted(totals.items()):
        limit = batch.limit(product_id, metric)
        thresholds = batch.snapshot.policies[product_id].alert_thresholds
        if not limit or not thresholds:
            continue
        crossed = crossed_thresholds(counter.value, limit, thresholds, counter.notified_thresholds)
        if not crossed:
            continue
        product = batch.snapshot.product(product_id)
        message = threshold_notice(product.name, metric, counter.value, limit, crossed)
        await notify(batch.organization_id, NotificationKind.USAGE_THRESHOLD, message, batch.now)
        usage = {"product": product.code, "metric": metric, "used": counter.value, "limit": limit}
        data = {**usage, "thresholds_percent": sorted(crossed)}
        await record_event(
            batch.organization_id, EventType.USAGE_THRESHOLD_REACHED, data, batch.now
        )  # EVT-1
        await UsageCounter.filter(
            organization_id=batch.organization_id,
            product_id=product_id,
            metric=metric,
            period_start=batch.month_start,
            workspace=ALL_WORKSPACES,
        ).update(notified_thresholds=sorted({*counter.notified_thresholds, *crossed}))


def _check(
    events: list[EventInput], batch: _Batch, workspaces: set[str]
) -> list[usage_store.EventRow]:
    """USE-1: every event of the batch, checked; one bad event refuses the whole batch."""
    products = {p.code: p for p in batch.snapshot.products}
    latest = batch.now + CLOCK_SKEW
    month_start = batch.month_start
    problems: list[tuple[int, str, str]] = []
    checked: list[usage_store.EventRow] = []
    for index, event in enumerate(events):
        product = products.get(event.product)
        if not event.event_id.strip():
            problems.append((index, "id", "an event needs a unique id"))
        if product is None or product.id not in batch.items:
            message = f"{event.product!r} is not a product of this subscription"
            problems.append((index, "product", message))
            continue
        occurred_at = event.occurred_at or batch.now
        if occurred_at.utcoffset() is None:
            problems.append((index, "occurredAt", "give a time zone, e.g. 2026-03-12T09:00:00Z"))
            occurred_at = batch.now
        # The usual event has nothing wrong: _event_problems' checks, without building its list.
        if not (
            event.metric in product.metrics
            and (event.workspace is None or event.workspace in workspaces)
            and month_start <= occurred_at <= latest
            and event_problem(event.metric, event.quantity, event.contact_id) is None
        ):
            found = _event_problems(event, product.metrics, workspaces, occurred_at, batch, latest)
            problems += [(index, field, message) for field, message in found]
        checked.append(
            usage_store.EventRow(
                event.event_id,
                product.id,
                event.metric,
                event.quantity or 0,
                event.contact_id,
                event.workspace or "",
                occurred_at,
            )
        )
    if problems:
        raise BatchRefused(problems)
    return checked


def _event_problems(
    event: EventInput,
    metrics: tuple[str, ...],
    workspaces: set[str],
    occurred_at: datetime,
    batch: _Batch,
    latest: datetime,
) -> list[tuple[str, str]]:
    """(field, message) for what is wrong with one event of a subscribed product; `latest` is
    the latest time an event may have happened (now, give or take the clocks' skew)."""
    problems: list[tuple[str, str]] = []
    if event.metric not in metrics:
        problems.append(("metric", f"{event.product} meters {list(metrics)}, not {event.metric!r}"))
    if (problem := event_problem(event.metric, event.quantity, event.contact_id)) is not None:
        problems.append(problem)
    if event.workspace is not None and event.workspace not in workspaces:
        problems.append(
            (
                "workspace",
                f"no workspace {event.workspace!r} in this organization (or it is archived)",
            )
        )
    if occurred_at < batch.month_start:
        problems.append(("occurredAt", "the billing month it belongs to is closed"))
    if occurred_at > latest:
        problems.append(("occurredAt", "it is in the future"))
    return problems


async def _count(
    connection: BaseDBAsyncClient, batch: _Batch, new: list[usage_store.EventRow]
) -> dict[tuple[int, str], usage_store.CounterState]:
    """Adds the new events to this month's counters, per workspace and for all of them ("*");
    returns the organization-wide counters of every (product id, metric) the events touched."""
    # Per workspace first, then each into "*": one pass over the events, not two.
    in_workspace: dict[tuple[int, str, str], int] = defaultdict(int)
    gauges: dict[tuple[int, str, str], tuple[datetime, int]] = {}
    contacts: set[tuple[int, str, str]] = set()
    kinds: dict[str, MetricKind] = {}
    for c in new:
        metric = c.metric
        kind = kinds.get(metric)
        if kind is None:
            kind = kinds[metric] = metric_kind(metric)
        if kind is MetricKind.EVENTS:
            in_workspace[(c.product_id, metric, c.workspace)] += c.quantity
        elif kind is MetricKind.DISTINCT_CONTACTS:
            in_workspace[(c.product_id, metric, c.workspace)] += 0
            contacts.add((c.product_id, c.workspace, str(c.contact_id)))
        else:  # STOCK, what is stored now: the latest report wins
            for workspace in (c.workspace, ALL_WORKSPACES):
                key = (c.product_id, metric, workspace)
                if key not in gauges or gauges[key][0] <= c.occurred_at:
                    gauges[key] = (c.occurred_at, c.quantity)
    additions = defaultdict(int, in_workspace)
    for (product_id, metric, _), value in in_workspace.items():
        additions[(product_id, metric, ALL_WORKSPACES)] += value
    contacts |= {(product_id, ALL_WORKSPACES, contact) for product_id, _, contact in contacts}
    counters = await usage_store.count_new(
        connection,
        batch.organization_id,
        batch.month_start,
        sorted(contacts),
        additions,
        DISTINCT_CONTACT_METRIC,
    )
    totals = _organization_wide(counters)
    for key, (_, value) in gauges.items():
        await _write_gauge(batch, key, value, totals)
    return totals


def _organization_wide(
    counters: dict[tuple[int, str, str], usage_store.CounterState],
) -> dict[tuple[int, str], usage_store.CounterState]:
    return {
        (product_id, metric): state
        for (product_id, metric, workspace), state in counters.items()
        if workspace == ALL_WORKSPACES
    }


async def _record_and_count(
    connection: BaseDBAsyncClient, batch: _Batch, events: list[usage_store.EventRow]
) -> tuple[int, dict[tuple[int, str], usage_store.CounterState]]:
    """PostgreSQL: the events stored and counted in one statement (usage_store.record_and_count);
    how many were new, and the organization-wide counters they touched, as `_count` returns."""
    accepted, counters = await usage_store.record_and_count(
        connection,
        batch.organization_id,
        batch.month_start,
        batch.now,
        events,
        DISTINCT_CONTACT_METRIC,
    )
    return accepted, _organization_wide(counters)


async def _write_gauge(
    batch: _Batch,
    key: tuple[int, str, str],
    value: int,
    totals: dict[tuple[int, str], usage_store.CounterState],
) -> None:
    """A stock metric's counter holds the latest report; the organization-wide one is also kept
    on the subscription item, where the CHG-1 blockers read what is stored now."""
    product_id, metric, workspace = key
    counter, _ = await UsageCounter.get_or_create(
        organization_id=batch.organization_id,
        product_id=product_id,
        metric=metric,
        period_start=batch.month_start,
        workspace=workspace,
    )
    await UsageCounter.filter(id=counter.id).update(value=value)
    if workspace == ALL_WORKSPACES:
        totals[(product_id, metric)] = usage_store.CounterState(
            value, counter.notified_thresholds, counter.limit_notified, counter.limit_event_sent
        )
        await _update_stock(batch.items[product_id], metric, value)


async def _update_stock(item: SubscriptionItem, metric: str, value: int) -> None:
    # CHG-1 blockers read what is stored now from the subscription item.
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
