"""Where the billing clock's schedule is kept (MNY-4): each subscription stores when its next
work falls due (billing.schedule, in the gateway's own time), and workers claim due rows in
batches, so several workers share the work and none visits a row before it is due.

A claim moves the row's due time a lease ahead in the claiming statement itself, so another
worker skips it; the work then stores the schedule's next due time under the organization lock.
A worker that dies leaves its rows to be claimed again when the lease ends, and the
organization lock with the schedule's own check (`due_now`) means work is never done twice."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from billing.schedule import OrganizationFacts, SubscriptionFacts, stored_due_at
from billing.subscription_status import SubscriptionStatus
from models import Organization, Subscription, SubscriptionItem
from resolvers.invoicing import unpaid_invoices

# Longer than a batch takes, the processor's calls included; a claim left by a worker that died
# is taken again after it.
LEASE = timedelta(minutes=5)
# A row whose work was postponed (the processor unreachable) is tried again after this.
RETRY_PAUSE = timedelta(minutes=1)


async def schedule_facts(
    organization: Organization, row: Subscription | None, items: Iterable[SubscriptionItem]
) -> OrganizationFacts:
    """What the schedule reads (billing.schedule), loaded for one organization."""
    subscription = None
    if row is not None:
        pending = row.status is SubscriptionStatus.PENDING_PAYMENT
        unpaid = await unpaid_invoices(organization.id) if pending else []
        subscription = SubscriptionFacts(
            status=row.status,
            billing_interval=row.billing_interval,
            billing_anchor=row.billing_anchor,
            current_period_start=row.current_period_start,
            current_period_end=row.current_period_end,
            trial_ends_at=row.trial_ends_at,
            trial_ending_notice_for=row.trial_ending_notice_for,
            usage_closed_until=row.usage_closed_until,
            renewal_notice_for=row.renewal_notice_for,
            auto_downgrade_checked_for=row.auto_downgrade_checked_for,
            auto_downgrade_enabled=any(item.auto_downgrade for item in items),
            unpaid=tuple((i.due_at, i.automatic_retries) for i in unpaid),
        )
    return OrganizationFacts(
        subscription, organization.data_delete_at, organization.data_deleted_at
    )


async def store_next_due(
    organization: Organization, row: Subscription, facts: OrganizationFacts
) -> datetime | None:
    """Stores the row's next due time (the gateway's time); call under the organization lock."""
    due = stored_due_at(facts, organization.clock_offset_seconds)
    await Subscription.filter(id=row.id).update(next_due_at=due)
    row.next_due_at = due
    return due


async def postpone(organization_id: UUID, base_now: datetime) -> None:
    """The organization's work failed (and rolled back): tried again after RETRY_PAUSE."""
    await Subscription.filter(organization_id=organization_id).update(
        next_due_at=base_now + RETRY_PAUSE
    )


async def claim_due(
    base_now: datetime, limit: int, organization_ids: Collection[UUID] | None = None
) -> list[UUID]:
    """Claims up to `limit` subscriptions due at `base_now`, earliest first; their organizations'
    ids. On PostgreSQL rows another worker is claiming are skipped (FOR UPDATE SKIP LOCKED);
    SQLite runs one writer at a time, so its claim needs no row locks."""
    connection: BaseDBAsyncClient = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    values: list[object] = []

    def mark(value: object) -> str:  # placeholders numbered in the order they are written
        values.append(value)
        return f"${len(values)}" if postgres else "?"

    lease = mark(base_now + LEASE)
    due = mark(base_now)
    only = ""
    if organization_ids is not None:
        if not organization_ids:
            return []
        wanted = (i if postgres else str(i) for i in organization_ids)
        only = f" AND organization_id IN ({', '.join(mark(i) for i in wanted)})"
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    sql = (
        f"UPDATE subscription SET next_due_at = {lease} WHERE id IN ("
        f"SELECT id FROM subscription WHERE next_due_at <= {due}{only} "
        f"ORDER BY next_due_at LIMIT {mark(limit)}{lock}) RETURNING organization_id"
    )
    rows = await connection.execute_query_dict(sql, values)
    return [_uuid(row["organization_id"]) for row in rows]


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(cast(str, value))
