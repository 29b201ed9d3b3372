"""USE-3 for the billing page: one month's counts per workspace, and the counts of the last
billing months, each read from the counters in one query (never from the events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from billing.errors import BillingError
from billing.periods import month_of
from models import ALL_WORKSPACES, Subscription, UsageCounter, Workspace
from resolvers.catalog import CatalogSnapshot
from resolvers.usage_charges import open_usage_month
from resolvers.usage_meters import period_in_month

MAX_HISTORY_MONTHS = 24


@dataclass(frozen=True)
class WorkspaceReading:
    workspace: str | None  # the slug; None for usage sent without a workspace
    name: str | None
    archived: bool
    product: str
    metric: str
    used: int


@dataclass(frozen=True)
class MonthCount:
    product: str
    metric: str
    used: int


@dataclass(frozen=True)
class MonthReading:
    month: str  # YYYY-MM, the calendar month the billing month started in (usage(month:) takes it)
    period_start: datetime
    counts: list[MonthCount]


async def usage_by_workspace(
    organization_id: UUID, snapshot: CatalogSnapshot, month: str | None
) -> list[WorkspaceReading]:
    """The billing month's counts per workspace (archived ones too: their history stays), in
    workspace order with the usage sent without a workspace last."""
    subscription = await Subscription.get_or_none(organization_id=organization_id)
    if subscription is None:
        return []
    if month is None:
        period_start, _ = open_usage_month(subscription)
    else:
        period_start = await period_in_month(organization_id, subscription, month)
    counters = await UsageCounter.filter(
        organization_id=organization_id, period_start=period_start
    ).exclude(workspace=ALL_WORKSPACES)
    workspaces = {w.slug: w for w in await Workspace.filter(organization_id=organization_id)}
    readings = []
    for counter in counters:
        workspace = workspaces.get(counter.workspace)
        readings.append(
            WorkspaceReading(
                workspace=counter.workspace or None,
                name=workspace.name if workspace else None,
                archived=workspace is not None and workspace.archived_at is not None,
                product=snapshot.product(counter.product_id).code,
                metric=counter.metric,
                used=counter.value,
            )
        )
    return sorted(
        readings, key=lambda r: (r.workspace is None, r.workspace or "", r.product, r.metric)
    )


async def usage_history(
    organization_id: UUID, snapshot: CatalogSnapshot, months: int
) -> list[MonthReading]:
    """The open billing month and the earlier ones with counted usage, newest first, at most
    `months` of them; each with every metric the organization counted that month."""
    if not 1 <= months <= MAX_HISTORY_MONTHS:
        raise BillingError(
            f"Ask for 1 to {MAX_HISTORY_MONTHS} months of usage history, not {months}.",
            field="months",
        )
    subscription = await Subscription.get_or_none(organization_id=organization_id)
    if subscription is None:
        return []
    open_start, _ = open_usage_month(subscription)
    counted = UsageCounter.filter(
        organization_id=organization_id, workspace=ALL_WORKSPACES, period_start__lte=open_start
    )
    # The newest `months` periods first, then only their counters: the history never grows the
    # read past `months` months.
    starts = (
        await counted.order_by("-period_start")
        .distinct()
        .limit(months)
        .values_list("period_start", flat=True)
    )
    by_period: dict[datetime, list[MonthCount]] = {}
    kept = sorted({open_start, *cast(list[datetime], starts)}, reverse=True)[:months]
    for counter in await counted.filter(period_start__in=kept).order_by("product_id", "metric"):
        product = snapshot.product(counter.product_id).code
        by_period.setdefault(counter.period_start, []).append(
            MonthCount(product, counter.metric, counter.value)
        )
    return [MonthReading(month_of(start), start, by_period.get(start, [])) for start in kept]
