"""USE-3 for the billing page: counts per workspace and over the last billing months. Counts
only, never amounts, so any member may read them (ACC-3)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from resolvers import usage_history
from resolvers.catalog import CatalogSnapshot


@strawberry.type(description="One metric's count in one workspace this billing month.")
class WorkspaceUsage:
    workspace: str | None = strawberry.field(
        description="The workspace's slug; null for usage sent without a workspace."
    )
    name: str | None = strawberry.field(description="The workspace's name; null as above.")
    archived: bool = strawberry.field(description="Archived workspaces keep their history.")
    product: str
    metric: str
    used: int


@strawberry.type
class UsageCount:
    product: str
    metric: str
    used: int


@strawberry.type(description="One billing month's counts, all workspaces together.")
class UsageMonth:
    month: str = strawberry.field(
        description="YYYY-MM: the calendar month it started in, as usage(month:) takes it."
    )
    period_start: datetime
    counts: list[UsageCount] = strawberry.field(
        description="Each metric counted that month; a month with no usage yet has none."
    )


async def usage_by_workspace(
    organization_id: UUID, snapshot: CatalogSnapshot, month: str | None
) -> list[WorkspaceUsage]:
    readings = await usage_history.usage_by_workspace(organization_id, snapshot, month)
    return [
        WorkspaceUsage(
            workspace=r.workspace,
            name=r.name,
            archived=r.archived,
            product=r.product,
            metric=r.metric,
            used=r.used,
        )
        for r in readings
    ]


async def usage_months(
    organization_id: UUID, snapshot: CatalogSnapshot, months: int
) -> list[UsageMonth]:
    readings = await usage_history.usage_history(organization_id, snapshot, months)
    return [
        UsageMonth(
            month=r.month,
            period_start=r.period_start,
            counts=[UsageCount(product=c.product, metric=c.metric, used=c.used) for c in r.counts],
        )
        for r in readings
    ]
