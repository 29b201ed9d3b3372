"""Notices to owners and billing admins (NOT-1): stored, readable through the API, and e-mailed
by the outbox."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from billing.notifications import NotificationKind
from models import Notification


async def notify(
    organization_id: UUID,
    kind: NotificationKind,
    message: str,
    now: datetime,
    *,
    invoice_id: UUID | None = None,
) -> None:
    """NOT-1: stored for the owner and billing admins; the outbox e-mails it (with the invoice's
    number and amount when it is about one)."""
    await Notification.create(
        organization_id=organization_id,
        kind=kind,
        message=message,
        created_at=now,
        invoice_id=invoice_id,
    )
