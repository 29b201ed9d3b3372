"""Issuing invoices and charging them through the payment processor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise.queryset import QuerySet

from billing import discounts
from billing.errors import NotFoundError
from billing.invoices import InvoiceKind, InvoiceStatus, invoice_number, invoice_transition
from billing.quote import Line
from billing.tax import TaxRate, legend, lines_total, rate_for, summary, tax_lines
from billing.webhooks import EventType
from models import (
    BillingInfo,
    Invoice,
    InvoiceLine,
    Issuer,
    Organization,
    OrphanCharge,
    Payment,
    PaymentMethod,
)
from payments.port import ChargeRequest, ChargeResult, ChargeStatus, PaymentProcessor
from resolvers import hot_reads
from resolvers.document_mail import INVOICE, issued_to, queue_document
from resolvers.hot_columns import BILLING_INFO_COLUMNS
from resolvers.taxes import tax_customer, tax_table
from resolvers.webhook_events import invoice_event
from resolvers.work_metrics import counted_charge


@dataclass(frozen=True)
class InvoiceContent:
    """What an invoice says: its kind, lines, currency, the credit balance it spends (INT-3) and
    the period it bills, if one."""

    kind: InvoiceKind
    lines: Sequence[Line]
    currency: str
    credit_applied: int = 0
    period: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class Parties:
    """The issuer and the customer's billing information (INV-3) as the caller read them under
    the organization's lock (None: there is none)."""

    issuer: Issuer | None
    billing_info: BillingInfo | None


async def issue_invoice(
    organization: Organization,
    content: InvoiceContent,
    now: datetime,
    parties: Parties | None = None,
) -> Invoice:
    """An OPEN invoice with the next number; the caller holds the organization's row lock.
    `parties`: the issuer and billing information already read under it (read here if not)."""
    lines, credit_applied, period = content.lines, content.credit_applied, content.period
    organization.invoice_sequence += 1
    await organization.save(update_fields=["invoice_sequence"])
    if parties is None:
        issuer = await Issuer.get_or_none(id=1)
        info = await BillingInfo.get_or_none(organization_id=organization.id)
    else:
        issuer, info = parties.issuer, parties.billing_info
    details = details_of(organization, issuer, info)
    if any(line.tax_rate is None for line in lines):
        # TAX-1: lines not taxed by the caller are taxed at the rate of the address issued to.
        rate = rate_for(await tax_table(), tax_customer(details["customer"]))
        lines = [
            line if line.tax_rate is not None else tax_lines([line], rate, None)[0]
            for line in lines
        ]
    total = lines_total(lines)  # MNY-2, DSC-2, TAX-1: after discounts, with taxes
    if total < 0:
        # CRN-1: no invoice has a negative total; a credit beyond the charges is a credit note.
        raise ValueError(f"an invoice of {total} (minor units): issue a credit note instead")
    invoice = await Invoice.create(
        organization=organization,
        number=invoice_number(organization.slug, organization.invoice_sequence),
        sequence=organization.invoice_sequence,
        kind=content.kind,
        status=invoice_transition(InvoiceStatus.DRAFT, InvoiceStatus.OPEN),  # issued (INV-1)
        currency=content.currency,
        total=total,
        credit_applied=credit_applied,
        amount_due=max(total, 0) - credit_applied,
        issued_at=now,
        due_at=now,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        billing_details=details,
        **discount_and_tax(lines),
    )
    await InvoiceLine.bulk_create(
        [
            InvoiceLine(invoice_id=invoice.id, **line_columns(line, position))
            for position, line in enumerate(lines)
        ]
    )
    await invoice_event(invoice, EventType.INVOICE_ISSUED, now)  # EVT-1
    # Its e-mail with the PDF, in this transaction, when the issuer e-mails invoices.
    await queue_document(
        organization.id,
        INVOICE,
        invoice.id,
        invoice.number,
        now,
        email_documents=bool(issuer and issuer.email_documents),
        recipient=issued_to(details),
    )
    return invoice


async def billing_details(organization: Organization) -> dict[str, Any]:
    """INV-3: the issuer and the customer as they are now, copied onto the invoice."""
    issuer = await Issuer.get_or_none(id=1)
    info = await BillingInfo.get_or_none(organization_id=organization.id)
    return details_of(organization, issuer, info)


def discount_and_tax(lines: Sequence[Line]) -> dict[str, Any]:
    """An invoice's discount and tax columns from its lines (DSC-2, TAX-1)."""
    rates = summary(lines)
    return {
        "discount_total": discounts.total_discount(lines),
        "tax_summary": [rate.to_json() for rate in rates],
        "tax_total": sum(line.tax for line in lines),
        "tax_legend": legend(rate.rate for rate in rates),
    }


def line_columns(line: Line, position: int) -> dict[str, Any]:
    """An invoice line's columns, but its invoice."""
    return {
        "position": position,
        "description": line.description,
        "amount": line.amount,
        "discount": line.discount,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "tax": line.tax,
        "tax_rate": line.tax_rate.to_json() if line.tax_rate else None,
    }


def stored_line(row: InvoiceLine) -> Line:
    """An invoice line as the rules see it, from its row."""
    rate = TaxRate.from_json(row.tax_rate) if row.tax_rate else None
    return Line(
        row.description,
        row.amount,
        row.period_start,
        row.period_end,
        discount=row.discount,
        tax=row.tax,
        tax_rate=rate,
    )


def details_of(
    organization: Organization, issuer: Issuer | None, info: BillingInfo | None
) -> dict[str, Any]:
    """INV-3: the invoice's copy of the issuer and the customer, from their rows."""
    customer: dict[str, Any] = {"company_name": organization.name}
    if info is not None:
        customer = {field: getattr(info, field) for field in BILLING_INFO_FIELDS}
    return {
        "issuer": {
            "name": issuer.name,
            "address": issuer.address,
            "email": issuer.email,
            "tax_id": issuer.tax_id,
        }
        if issuer
        else {},
        "customer": customer,
    }


# What an invoice keeps of the customer (INV-3): the billing information but its keys.
BILLING_INFO_FIELDS = BILLING_INFO_COLUMNS[2:]


def unpaid_invoices(organization_id: UUID) -> QuerySet[Invoice]:
    """Open invoices, oldest due first; a change waiting for 3-D Secure is not owed (CHG-5)."""
    return Invoice.filter(
        organization_id=organization_id, status=InvoiceStatus.OPEN, pending_change__isnull=True
    ).order_by("due_at", "sequence")


def overdue_invoices(organization_id: UUID, now: datetime) -> QuerySet[Invoice]:
    """DUN-2: the one definition of overdue: unpaid and past its due date."""
    return unpaid_invoices(organization_id).filter(due_at__lte=now)


async def default_payment_method(organization_id: UUID) -> PaymentMethod | None:
    return await hot_reads.default_payment_method(organization_id)


@dataclass(frozen=True)
class Collecting:
    """What the caller of `collect` has read already under the organization's lock: the default
    card (None: there is none), the organization, and which attempt at the invoice this is (1 for
    an invoice issued in the same transaction)."""

    card: PaymentMethod | None
    organization: Organization
    attempt: int


async def mark_paid(invoice: Invoice, now: datetime) -> None:
    invoice.status = invoice_transition(invoice.status, InvoiceStatus.PAID)
    invoice.paid_at = now
    await invoice.save(update_fields=["status", "paid_at"])
    await invoice_event(invoice, EventType.INVOICE_PAID, now)  # EVT-1


async def collect(
    invoice: Invoice,
    processor: PaymentProcessor,
    now: datetime,
    *,
    pending_change: dict[str, Any] | None = None,
    known: Collecting | None = None,
) -> ChargeResult | None:
    """Charges what the invoice leaves due to the default card; nothing due means paid at once.

    Each call is a new attempt with its own idempotency key (IDM-1, DUN-6); a request retried
    after a crash re-issues the same invoice and finds the first charge by the same key.
    """
    if invoice.amount_due <= 0:
        await mark_paid(invoice, now)
        return None
    card = known.card if known else await default_payment_method(invoice.organization_id)
    if card is None:
        return ChargeResult(
            ChargeStatus.FAILED, "", "no_payment_method", "No payment method on file."
        )
    attempt = known.attempt if known else await Payment.filter(invoice_id=invoice.id).count() + 1
    idempotency_key = charge_key(invoice, attempt, card.processor_id)
    if await OrphanCharge.exists(idempotency_key=idempotency_key):
        # The first charge under this key was made, lost in a crash and refunded: a new one.
        idempotency_key += ":after-refund"
    organization = (
        known.organization if known else await Organization.get(id=invoice.organization_id)
    )
    result = await counted_charge(
        processor,
        ChargeRequest(
            customer_id=organization.processor_customer_id,
            reference=str(organization.id),
            payment_method_id=card.processor_id,
            amount=invoice.amount_due,
            currency=invoice.currency,
            idempotency_key=idempotency_key,
            description=f"Invoice {invoice.number}",
        ),
    )
    await Payment.create(
        invoice=invoice,
        idempotency_key=idempotency_key,
        processor_charge_id=result.charge_id or None,
        amount=invoice.amount_due,
        currency=invoice.currency,
        status=result.status.value,
        failure_code=result.failure_code,
        client_secret=result.client_secret,
        charged_at=now,  # the billing clock's, as the invoice's (finance exports by month)
    )
    if result.status is ChargeStatus.SUCCEEDED:
        await mark_paid(invoice, now)
    elif result.status is ChargeStatus.REQUIRES_ACTION and pending_change is not None:
        invoice.pending_change = pending_change
        await invoice.save(update_fields=["pending_change"])
    return result


def charge_key(invoice: Invoice, attempt: int, card: str) -> str:
    """IDM-1: one key per attempt at one invoice. An invoice is named by its organization and
    sequence, which a rolled-back transaction hands out again, so a retry of the same request
    after a crash finds the first charge; a new attempt (a retry, another change) never collides
    with an earlier one. The amount and the card are part of it because the processor refuses a
    key reused with other parameters."""
    invoice_name = f"{invoice.organization_id}:{invoice.sequence}"
    return f"invoice:{invoice_name}:{attempt}:{invoice.amount_due}:{card}"


async def locked_invoice(organization_id: UUID, invoice_id: str) -> Invoice:
    """One of the organization's invoices, row-locked; another tenant's id finds nothing."""
    try:
        invoice = (
            await Invoice.filter(id=UUID(invoice_id), organization_id=organization_id)
            .select_for_update()
            .first()
        )
    except ValueError:
        invoice = None
    if invoice is None:
        raise NotFoundError(
            f"No invoice with id {invoice_id!r} is visible to you.", field="invoiceId"
        )
    return invoice
