"""The notification outbox (NOT-1): every notice is e-mailed to the organization's owner and
billing admins, in order per organization; a failed delivery is tried again later, with growing
pauses, and never dropped (the organization's later notices wait for it)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from billing.access import BILLING_ROLES
from models import Invoice, Membership, Notification, Organization
from resolvers.notice_mail import NoticeMail, notice_mail

log = logging.getLogger("billing_gateway.outbox")
MAX_PAUSE = timedelta(hours=1)
HEADS_LOOKED_AT = 1000


class Mailer(Protocol):
    async def send(self, recipients: list[str], notice: NoticeMail) -> None: ...


def pause_after(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts, 10)), MAX_PAUSE)


async def deliver_pending(
    mailer: Mailer,
    wall_now: datetime,
    batch: int = 100,
    *,
    organization_ids: Collection[UUID] | None = None,
) -> tuple[int, int]:
    """(delivered, postponed), for the given organizations or all. Only the oldest undelivered
    notice of each organization is sent, so an organization's e-mails go out in order however
    many workers deliver; each in its own transaction with its row locked (skipped by the
    others), so no two workers send the same one."""
    delivered = postponed = 0
    for notification_id in await _due_heads(wall_now, batch, organization_ids):
        async with in_transaction():
            notice = (
                await Notification.filter(
                    Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=wall_now),
                    id=notification_id,
                    delivered_at__isnull=True,
                )
                .select_for_update(skip_locked=True)
                .first()
            )
            if notice is None:
                continue  # another worker has it, or has just sent it
            if await _send(mailer, notice, wall_now):
                delivered += 1
            else:
                postponed += 1
    return delivered, postponed


async def _due_heads(
    wall_now: datetime, limit: int, organization_ids: Collection[UUID] | None
) -> list[UUID]:
    """The oldest undelivered notice of each organization, if it is due (its retry pause over):
    a notice waits while an older one of its organization is undelivered."""
    pending = Notification.filter(delivered_at__isnull=True)
    if organization_ids is not None:
        pending = pending.filter(organization_id__in=list(organization_ids))
    rows = (
        await pending.order_by("created_at", "id")
        .limit(HEADS_LOOKED_AT)
        .values("id", "organization_id", "next_attempt_at")
    )
    heads: dict[UUID, dict[str, Any]] = {}
    for row in rows:
        heads.setdefault(row["organization_id"], row)
    due = [
        h["id"]
        for h in heads.values()
        if h["next_attempt_at"] is None or h["next_attempt_at"] <= wall_now
    ]
    return due[:limit]


async def _send(mailer: Mailer, notice: Notification, wall_now: datetime) -> bool:
    """Sends one locked notice; False when the delivery failed and waits for a retry."""
    recipients = await _recipients(notice.organization_id)
    organization = await Organization.get(id=notice.organization_id)
    invoice = await Invoice.get_or_none(id=notice.invoice_id) if notice.invoice_id else None
    try:
        if recipients:
            await mailer.send(recipients, notice_mail(notice, organization, invoice))
    except Exception as error:  # any delivery failure: keep it, try again later
        notice.attempts += 1
        notice.next_attempt_at = wall_now + pause_after(notice.attempts)
        notice.last_error = str(error)[:500]
        await notice.save(update_fields=["attempts", "next_attempt_at", "last_error"])
        log.warning("notice %s not delivered (attempt %d): %s", notice.id, notice.attempts, error)
        return False
    notice.delivered_at = wall_now
    notice.attempts += 1
    await notice.save(update_fields=["delivered_at", "attempts"])
    return True


async def _recipients(organization_id: object) -> list[str]:
    memberships = await Membership.filter(
        organization_id=organization_id, role__in=list(BILLING_ROLES)
    ).select_related("user")
    return sorted(m.user.email for m in memberships)
