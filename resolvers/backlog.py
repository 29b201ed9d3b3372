"""What is due and not yet done, read at each scrape of GET /metrics: the billing clock's lag and
the depth and age of the outboxes. Read from the database, so every server reports the same.

The lag is the age of the oldest stored due time (`next_due_at`, resolvers/schedule_store.py)
that has passed: any due work, not only renewals. A RESCHEDULE row has no due time of its own
yet (the next tick works it out), so it counts as due now: it adds no lag, but with nothing else
due the lag reads 0 rather than "nothing due". A claimed row's due time is its lease's end, so
work under way is not counted as late until its lease runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Min

from billing.schedule import RESCHEDULE
from models import Notification, Subscription, WebhookDelivery


@dataclass(frozen=True)
class Outbox:
    depth: int
    oldest: datetime | None


@dataclass(frozen=True)
class Backlog:
    oldest_due: datetime | None  # the oldest due time the clock has not yet reached
    emails: Outbox
    webhooks: Outbox


async def read_backlog(now: datetime) -> Backlog:
    oldest_due = await _oldest_due(now)
    emails = await (
        Notification.filter(delivered_at__isnull=True)
        .annotate(depth=Count("id"), oldest=Min("created_at"))
        .first()
        .values("depth", "oldest")
    )
    webhooks = await (
        WebhookDelivery.filter(status="PENDING")
        .annotate(depth=Count("id"), oldest=Min("created_at"))
        .first()
        .values("depth", "oldest")
    )
    return Backlog(
        oldest_due=oldest_due,
        emails=_outbox(emails),
        webhooks=_outbox(webhooks),
    )


def _outbox(row: dict[str, object] | None) -> Outbox:
    row = row or {}
    depth, oldest = row.get("depth"), row.get("oldest")
    return Outbox(
        depth=depth if isinstance(depth, int) else 0,
        oldest=oldest if isinstance(oldest, datetime) else None,
    )


async def _oldest_due(now: datetime) -> datetime | None:
    due = await (
        Subscription.filter(next_due_at__gt=RESCHEDULE, next_due_at__lte=now)
        .annotate(oldest=Min("next_due_at"))
        .first()
        .values("oldest")
    )
    oldest = (due or {}).get("oldest")
    if isinstance(oldest, datetime):
        return oldest
    return now if await Subscription.filter(next_due_at=RESCHEDULE).exists() else None
