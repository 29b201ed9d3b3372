"""Refunds, full or partial, recorded against a paid invoice (INV-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.credit_notes import CreditDestination, refund_lines
from billing.errors import BillingError
from billing.invoices import InvoiceStatus, invoice_transition
from billing.money import Money
from billing.quote import Line
from billing.tax import lines_total
from billing.webhooks import EventType
from models import CreditNote, Invoice, InvoiceLine, Organization, Payment, Refund
from payments.port import ChargeStatus, PaymentProcessor
from resolvers.credit_notes import CreditNoteContent, issue_credit_note
from resolvers.invoicing import locked_invoice, stored_line
from resolvers.locks import lock_organization
from resolvers.webhook_events import invoice_event


@dataclass(frozen=True)
class RefundAsked:
    invoice_id: str
    amount: int | None  # None: all that is left to refund
    reason: str


async def refund_invoice(
    organization_id: UUID, asked: RefundAsked, base_now: datetime, processor: PaymentProcessor
) -> tuple[Invoice, CreditNote]:
    """The refunded invoice and the credit note the refund issued (CRN-1)."""
    amount, reason = asked.amount, asked.reason
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        invoice = await locked_invoice(organization_id, asked.invoice_id)
        if invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED):
            raise BillingError(
                f"Invoice {invoice.number} is {invoice.status.value}: only paid ones are refunded."
            )
        payment = (
            await Payment.filter(invoice_id=invoice.id, status=ChargeStatus.SUCCEEDED.value)
            .order_by("-created_at")
            .first()
        )
        if payment is None or not payment.processor_charge_id:
            raise BillingError(f"Invoice {invoice.number} was not paid by card: nothing to refund.")
        already = sum(refund.amount for refund in await Refund.filter(invoice_id=invoice.id))
        left = payment.amount - already
        wanted = left if amount is None else amount
        if not 1 <= wanted <= left:
            most = Money(left, invoice.currency).formatted()
            raise BillingError(
                f"Refund between 1 and {left} (cents), at most {most} is left to refund.",
                field="amount",
            )
        result = await processor.refund(
            payment.processor_charge_id, wanted, f"refund:{invoice.id}:{already + wanted}"
        )
        note = await record_refund(invoice, wanted, left, result.id, reason, now)
        return invoice, note


async def record_refund(
    invoice: Invoice, amount: int, left: int, processor_refund_id: str, reason: str, now: datetime
) -> CreditNote:
    """The books of a refund the processor has made (through the API or outside the gateway):
    the refund, the invoice's status, its credit note (CRN-1: the refund spread over the
    invoice's lines, tax at their rates) and their events. Call inside a transaction holding the
    organization's lock, with `left` what was refundable before this refund."""
    already = sum(refund.amount for refund in await Refund.filter(invoice_id=invoice.id))
    await Refund.create(
        invoice=invoice,
        amount=amount,
        processor_refund_id=processor_refund_id,
        reason=reason.strip(),
        created_at=now,
    )
    status = InvoiceStatus.REFUNDED if amount == left else InvoiceStatus.PARTIALLY_REFUNDED
    invoice.status = invoice_transition(invoice.status, status)
    await invoice.save(update_fields=["status"])
    refunded: dict[str, str | int | None] = {
        "refund_amount": amount,
        "refund_reason": reason.strip(),
    }
    await invoice_event(invoice, EventType.INVOICE_REFUNDED, now, **refunded)
    rows = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
    lines = [stored_line(row) for row in rows]
    if lines_total(lines) <= 0:  # an invoice recorded without its lines: its total, untaxed
        lines = [Line(f"Invoice {invoice.number}", invoice.total)]
    content = CreditNoteContent(
        invoice=invoice,
        lines=refund_lines(amount, lines, f"Refund of {invoice.number}", already),
        destination=CreditDestination.REFUNDED_TO_CARD,
        reason=reason,
        processor_refund_id=processor_refund_id,
    )
    organization = await Organization.get(id=invoice.organization_id)
    return await issue_credit_note(organization, content, now)


async def refunded_amount_locked(organization_id: UUID, invoice_id: str) -> int:
    """`refunded_amount` under the organization's lock (call inside a transaction): no refund of
    the organization's invoices lands until the transaction ends."""
    await lock_organization(organization_id)
    return await refunded_amount(invoice_id)


async def refunded_amount(invoice_id: str) -> int:
    """What has been refunded of an invoice so far, in minor units (0 for an id that is not one)."""
    try:
        refunds = await Refund.filter(invoice_id=UUID(invoice_id))
    except ValueError:
        return 0
    return sum(r.amount for r in refunds)
