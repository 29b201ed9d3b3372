"""Documents by e-mail (issue 18): when the issuer's setting is on (`email_documents` in the
catalog), each issued document is e-mailed with its PDF to the billing e-mail of the
organization's billing information. The row is written in the transaction that issues the
document (queue_document); the worker's tick delivers it (deliver_documents), retried with
growing pauses until delivered, and never twice (one row per document, locked while sent).

A kind of document is a name in DOCUMENT_KINDS ("invoice"; a credit note joins with its own
name); the gateway renders each kind's PDF (gateway/document_mail.py), so this module stays free
of drawing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from uuid import UUID, uuid4

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import BillingInfo, DocumentEmail, Issuer, Organization
from resolvers.outbox import pause_after

log = logging.getLogger("billing_gateway.document_mail")
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DOCUMENT_KINDS = {INVOICE: "Invoice", CREDIT_NOTE: "Credit note"}


@dataclass(frozen=True)
class RenderedDocument:
    """A document as attached: its title ("Invoice AC-00012"), file name and PDF bytes, and the
    amount line the e-mail's text says."""

    title: str
    filename: str
    pdf: bytes
    summary: str


@dataclass(frozen=True)
class DocumentMail:
    mail_id: str
    kind: str
    number: str
    organization: str
    subject: str
    document: RenderedDocument


Renderer = Callable[[str, UUID], Awaitable[RenderedDocument | None]]


@runtime_checkable
class DocumentMailer(Protocol):
    async def send_document(self, recipients: list[str], mail: DocumentMail) -> None: ...


def document_email(
    email_documents: bool,
    organization_id: UUID,
    kind: str,
    document_id: UUID,
    number: str,
    recipient: str,
    now: datetime,
) -> DocumentEmail | None:
    """The document's e-mail row, unsaved, when the issuer e-mails documents and there is a
    billing e-mail to send to; else None. For writers that insert many rows at once."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"Unknown document kind {kind!r}")
    if not (email_documents and recipient):
        return None
    return DocumentEmail(
        id=uuid4(),
        organization_id=organization_id,
        kind=kind,
        document_id=document_id,
        number=number,
        recipient=recipient,
        created_at=now,
    )


async def queue_document(
    organization_id: UUID,
    kind: str,
    document_id: UUID,
    number: str,
    now: datetime,
    *,
    email_documents: bool | None = None,
    recipient: str | None = None,
) -> DocumentEmail | None:
    """In the issuing transaction: the document's e-mail, saved, when the issuer e-mails documents
    and the organization has a billing e-mail. The setting and the address are looked up unless
    given (an invoice gives the billing e-mail it was issued to, INV-3)."""
    if email_documents is None:
        email_documents = await Issuer.filter(id=1, email_documents=True).exists()
    if email_documents and recipient is None:
        info = await BillingInfo.get_or_none(organization_id=organization_id)
        recipient = info.billing_email if info is not None else ""
    row = document_email(
        email_documents, organization_id, kind, document_id, number, recipient or "", now
    )
    if row is not None:
        await row.save()
    return row


def issued_to(billing_details: dict[str, Any]) -> str:
    """The billing e-mail a document was issued to (INV-3), or ""."""
    customer = billing_details.get("customer") or {}
    return str(customer.get("billing_email") or "") if isinstance(customer, dict) else ""


async def deliver_documents(
    mailer: DocumentMailer,
    render: Renderer,
    wall_now: datetime,
    batch: int = 100,
    *,
    organization_ids: Collection[UUID] | None = None,
) -> tuple[int, int]:
    """(delivered, postponed): the due document e-mails, oldest first, each in its own
    transaction with its row locked (skipped by other workers), so none is sent twice."""
    due = DocumentEmail.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=wall_now),
        delivered_at__isnull=True,
    )
    if organization_ids is not None:
        due = due.filter(organization_id__in=list(organization_ids))
    delivered = postponed = 0
    for mail_id in await due.order_by("created_at", "id").limit(batch).values_list("id", flat=True):
        async with in_transaction():
            row = (
                await DocumentEmail.filter(id=mail_id, delivered_at__isnull=True)
                .select_for_update(skip_locked=True)
                .first()
            )
            if row is None:
                continue  # another worker has it, or has just sent it
            if await _send(mailer, render, row, wall_now):
                delivered += 1
            else:
                postponed += 1
    return delivered, postponed


async def _send(
    mailer: DocumentMailer, render: Renderer, row: DocumentEmail, wall_now: datetime
) -> bool:
    try:
        document = await render(row.kind, row.document_id)
        if document is None:
            raise LookupError(f"{row.kind} {row.number} is gone")
        organization = await Organization.get(id=row.organization_id)
        await mailer.send_document(
            [row.recipient],
            DocumentMail(
                mail_id=str(row.id),
                kind=row.kind,
                number=row.number,
                organization=organization.name,
                subject=f"[{organization.name}] {document.title}",
                document=document,
            ),
        )
    except Exception as error:  # any failure: keep it, try again later
        row.attempts += 1
        row.next_attempt_at = wall_now + pause_after(row.attempts)
        row.last_error = str(error)[:500]
        await row.save(update_fields=["attempts", "next_attempt_at", "last_error"])
        log.warning(
            "%s %s not e-mailed (attempt %d): %s", row.kind, row.number, row.attempts, error
        )
        return False
    row.delivered_at = wall_now
    row.attempts += 1
    await row.save(update_fields=["delivered_at", "attempts"])
    return True
