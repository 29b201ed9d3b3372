"""What is due and not yet done, read at each scrape of GET /metrics: the billing clock's lag and
the depth and age of the outboxes. Read from the database, so every server reports the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count, Min

from billing.schedule import PERIOD_ENDS
from models import Notification, Subscription, WebhookDelivery


@dataclass(frozen=True)
class Outbox:
    depth: int
    oldest: datetime | None


@dataclass(frozen=True)
class Backlog:
    oldest_period_end_due: datetime | None  # the oldest renewal the clock has not done
    emails: Outbox
    webhooks: Outbox


async def read_backlog(now: datetime) -> Backlog:
    due = await (
        Subscription.filter(status__in=list(PERIOD_ENDS), current_period_end__lte=now)
        .annotate(oldest=Min("current_period_end"))
        .first()
        .values("oldest")
    )
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
        oldest_period_end_due=(due or {}).get("oldest"),
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
