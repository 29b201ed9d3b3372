"""Issuing credit notes (CRN-1) and reading them: a refund's, and the credit of a plan change its
charges do not use. Called inside the transaction that holds the organization's row lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from billing.credit_notes import CreditDestination, CreditLine, credit_total
from billing.errors import BillingError
from billing.invoices import InvoiceStatus, invoice_number
from billing.tax import NO_TAX, RateTotal, TaxRate
from billing.webhooks import EventType
from models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, Organization
from resolvers.document_mail import CREDIT_NOTE, queue_document
from resolvers.invoices import MAX_PAGE
from resolvers.webhook_events import record_event


@dataclass(frozen=True)
class CreditNoteContent:
    """What a credit note says: the invoice it corrects, its lines, why, where the money went."""

    invoice: Invoice
    lines: Sequence[CreditLine]
    destination: CreditDestination
    reason: str
    processor_refund_id: str | None = None


def credit_note_number(slug: str, sequence: int) -> str:
    """CRN-1: numbered like the organization's invoices (INV-2), in a sequence of their own."""
    return invoice_number(f"CN-{slug}", sequence)


async def issue_credit_note(
    organization: Organization, content: CreditNoteContent, now: datetime
) -> CreditNote:
    """The next credit note of the organization, its lines, its event (EVT-1) and, when the issuer
    e-mails documents, its e-mail to the billing e-mail (issue 18). The caller holds the
    organization's row lock and moves the money (the refund, or the credit balance), in the same
    transaction."""
    lines = content.lines
    if credit_total(lines) <= 0:
        raise ValueError("a credit note credits a positive amount")  # a programming error
    organization.credit_note_sequence += 1
    await organization.save(update_fields=["credit_note_sequence"])
    invoice = content.invoice
    note = await CreditNote.create(
        organization_id=organization.id,
        invoice_id=invoice.id,
        number=credit_note_number(organization.slug, organization.credit_note_sequence),
        sequence=organization.credit_note_sequence,
        currency=invoice.currency,
        subtotal=sum(line.amount for line in lines),
        tax_total=sum(line.tax for line in lines),
        total=credit_total(lines),
        tax_summary=[rate.to_json() for rate in credit_tax_summary(lines)],
        reason=content.reason.strip(),
        destination=content.destination,
        processor_refund_id=content.processor_refund_id,
        billing_details=invoice.billing_details or {},
        issued_at=now,
    )
    await CreditNoteLine.bulk_create(
        [
            CreditNoteLine(
                credit_note_id=note.id,
                position=position,
                description=line.description[:320],
                amount=line.amount,
                tax=line.tax,
                tax_rate=line.tax_rate.to_json() if line.tax_rate else None,
            )
            for position, line in enumerate(lines)
        ]
    )
    data = {"credit_note": credit_note_data(note, invoice)}
    await record_event(organization.id, EventType.CREDIT_NOTE_ISSUED, data, now)
    # Its e-mail with the PDF, in this transaction, to the billing e-mail as it is now.
    await queue_document(organization.id, CREDIT_NOTE, note.id, note.number, now)
    return note


def credit_tax_summary(lines: Sequence[CreditLine]) -> list[RateTotal]:
    """TAX-1: the amount credited without tax and the tax reversed, per rate."""
    totals: dict[TaxRate, tuple[int, int]] = {}
    for line in lines:
        if line.tax_rate is None or line.tax_rate == NO_TAX:
            continue
        taxable, tax = totals.get(line.tax_rate, (0, 0))
        totals[line.tax_rate] = (taxable + line.amount, tax + line.tax)
    return [RateTotal(rate, taxable, tax) for rate, (taxable, tax) in totals.items()]


def credit_note_data(note: CreditNote, invoice: Invoice) -> dict[str, Any]:
    """The credit note as webhooks carry it (EVT-1)."""
    return {
        "id": str(note.id),
        "number": note.number,
        "invoice_id": str(invoice.id),
        "invoice_number": invoice.number,
        "currency": note.currency,
        "subtotal": note.subtotal,
        "tax": note.tax_total,
        "total": note.total,
        "reason": note.reason,
        "destination": note.destination.value,
        "processor_refund_id": note.processor_refund_id,
        "issued_at": note.issued_at.isoformat(),
    }


def stored_credit_line(row: CreditNoteLine) -> CreditLine:
    rate = TaxRate.from_json(row.tax_rate) if row.tax_rate else None
    return CreditLine(row.description, row.amount, row.tax, rate)


async def corrected_invoice(organization_id: UUID, now: datetime) -> Invoice | None:
    """The invoice that charged the period running at `now` (the time a change credits), as
    resolvers.taxes.reversed_rate finds its rate; None when no such charge was invoiced."""
    line = (
        await InvoiceLine.filter(
            invoice__organization_id=organization_id,
            amount__gt=0,
            period_start__lte=now,
            period_end__gt=now,
        )
        .exclude(invoice__status=InvoiceStatus.VOID)
        .order_by("-invoice__sequence", "-position")
        .first()
    )
    return None if line is None else await Invoice.get(id=line.invoice_id)


async def credit_note_page(
    organization_id: UUID, first: int, after_sequence: int | None
) -> tuple[list[CreditNote], bool, int]:
    """The organization's credit notes, newest first: a page, whether more follow, how many."""
    if not 1 <= first <= MAX_PAGE:
        raise BillingError(f"first must be from 1 to {MAX_PAGE}, got {first}.", field="first")
    query = CreditNote.filter(organization_id=organization_id)
    total = await query.count()
    if after_sequence is not None:
        query = query.filter(sequence__lt=after_sequence)
    rows = await query.order_by("-sequence").limit(first + 1)
    return rows[:first], len(rows) > first, total


async def invoice_credit_notes(invoice_id: UUID) -> list[CreditNote]:
    return await CreditNote.filter(invoice_id=invoice_id).order_by("sequence")


async def credit_note_lines(credit_note_id: UUID) -> list[CreditNoteLine]:
    return await CreditNoteLine.filter(credit_note_id=credit_note_id).order_by("position")


async def invoice_of(invoice_id: UUID) -> Invoice:
    return await Invoice.get(id=invoice_id)
