"""What a notice's e-mail says (NOT-1), as plain facts: the gateway's mailer renders them with
its templates (gateway/emails.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing.money import Money
from billing.notifications import NotificationKind
from models import Invoice, Notification, Organization

# The kinds that ask the reader to do something on the billing page.
ACTION_KINDS = frozenset(
    {
        NotificationKind.PAYMENT_FAILED,
        NotificationKind.PAYMENT_ACTION_REQUIRED,
        NotificationKind.STATUS_CHANGED,
        NotificationKind.LIMIT_REACHED,
    }
)


@dataclass(frozen=True)
class InvoiceFacts:
    number: str
    amount_due: str  # formatted, e.g. "$159.00"
    total: str
    due_at: datetime


@dataclass(frozen=True)
class NoticeMail:
    notice_id: str
    kind: str
    subject: str
    organization: str
    message: str
    created_at: datetime
    invoice: InvoiceFacts | None
    action_needed: bool


def notice_mail(
    notice: Notification, organization: Organization, invoice: Invoice | None
) -> NoticeMail:
    known = notice.kind in NotificationKind.__members__
    kind = NotificationKind(notice.kind) if known else None
    subject = kind.subject if kind is not None else "Billing notice"
    facts = None
    if invoice is not None:
        facts = InvoiceFacts(
            number=invoice.number,
            amount_due=Money(invoice.amount_due, invoice.currency).formatted(),
            total=Money(invoice.total, invoice.currency).formatted(),
            due_at=invoice.due_at,
        )
    return NoticeMail(
        notice_id=str(notice.id),
        kind=notice.kind,
        subject=f"[{organization.name}] {subject}",
        organization=organization.name,
        message=notice.message,
        created_at=notice.created_at,
        invoice=facts,
        action_needed=kind in ACTION_KINDS,
    )
