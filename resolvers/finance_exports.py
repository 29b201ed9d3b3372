"""Finance exports (issue 18): the month's invoices, credit notes, payments and tax report as rows
for CSV, for one organization or all. Each kind is registered in EXPORTS by its name (the route's
file name); the tax report sums the documents of every source in TAX_DOCUMENT_SOURCES: the
invoices, and the credit notes with their taxable amounts and tax negated (CRN-1, TAX-1), so a
month with an invoice and a partial refund reports the net figures.

Amounts are integers in the currency's minor unit (MNY-1), times ISO 8601 in UTC."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from billing.invoices import InvoiceStatus
from billing.tax import RateTotal
from billing.tax_report import CREDIT_NOTE, TaxedDocument, tax_report
from models import CreditNote, Invoice, InvoiceLine, Organization, Payment, Refund

Cell = str | int | bool | None


@dataclass(frozen=True)
class ExportMonth:
    """What an export is asked for: a calendar month [start, end) and the organizations (None:
    all of them, for a platform key)."""

    month: str  # YYYY-MM
    start: datetime
    end: datetime
    organization_ids: Sequence[UUID] | None


@dataclass(frozen=True)
class ExportKind:
    name: str
    columns: tuple[str, ...]
    rows: Callable[[ExportMonth], Awaitable[list[list[Cell]]]]


EXPORTS: dict[str, ExportKind] = {}
TaxSource = Callable[[ExportMonth], Awaitable[list[TaxedDocument]]]
TAX_DOCUMENT_SOURCES: list[TaxSource] = []


def register_export(kind: ExportKind) -> ExportKind:
    EXPORTS[kind.name] = kind
    return kind


def register_tax_source(source: TaxSource) -> TaxSource:
    TAX_DOCUMENT_SOURCES.append(source)
    return source


def _time(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


async def _slugs(ids: set[UUID]) -> dict[UUID, str]:
    rows = await Organization.filter(id__in=list(ids)).values_list("id", "slug")
    return {organization_id: slug for organization_id, slug in rows}


def month_invoices(month: ExportMonth) -> QuerySet[Invoice]:
    """The invoices issued in the month (a draft is no invoice yet), in issue order."""
    query = Invoice.filter(issued_at__gte=month.start, issued_at__lt=month.end).exclude(
        status=InvoiceStatus.DRAFT
    )
    if month.organization_ids is not None:
        query = query.filter(organization_id__in=list(month.organization_ids))
    return query.order_by("issued_at", "number")


def _customer(document: Invoice | CreditNote) -> dict[str, Any]:
    customer = (document.billing_details or {}).get("customer") or {}
    return customer if isinstance(customer, dict) else {}


def _reverse_charge(invoice: Invoice) -> bool:
    return any(RateTotal.from_json(total).rate.reverse_charge for total in invoice.tax_summary)


def month_credit_notes(month: ExportMonth) -> QuerySet[CreditNote]:
    """The credit notes issued in the month, in issue order (CRN-1)."""
    query = CreditNote.filter(issued_at__gte=month.start, issued_at__lt=month.end)
    if month.organization_ids is not None:
        query = query.filter(organization_id__in=list(month.organization_ids))
    return query.order_by("issued_at", "number")


INVOICE_COLUMNS = (
    "number",
    "organization",
    "issued_at",
    "status",
    "currency",
    "subtotal",
    "discount",
    "tax",
    "total",
    "credit_applied",
    "amount_due",
    "paid_at",
    "country",
    "vat_number",
    "reverse_charge",
)


async def invoice_rows(month: ExportMonth) -> list[list[Cell]]:
    invoices = await month_invoices(month)
    subtotals: dict[UUID, int] = defaultdict(int)
    if invoices:
        for invoice_id, amount in await InvoiceLine.filter(
            invoice_id__in=[invoice.id for invoice in invoices]
        ).values_list("invoice_id", "amount"):
            subtotals[invoice_id] += amount
    slugs = await _slugs({invoice.organization_id for invoice in invoices})
    return [
        [
            invoice.number,
            slugs[invoice.organization_id],
            _time(invoice.issued_at),
            invoice.status.value,
            invoice.currency,
            subtotals[invoice.id],  # the lines before their discounts and tax
            invoice.discount_total,
            invoice.tax_total,
            invoice.total,
            invoice.credit_applied,
            invoice.amount_due,
            _time(invoice.paid_at),
            str(_customer(invoice).get("country", "")),
            str(_customer(invoice).get("tax_id", "")),
            _reverse_charge(invoice),
        ]
        for invoice in invoices
    ]


CREDIT_NOTE_COLUMNS = (
    "number",
    "organization",
    "invoice_number",
    "issued_at",
    "currency",
    "destination",
    "reason",
    "subtotal",
    "tax",
    "total",
    "country",
    "vat_number",
    "reverse_charge",
)


async def credit_note_rows(month: ExportMonth) -> list[list[Cell]]:
    """The month's credit notes (CRN-1): amounts positive, as the credit notes show them; the
    customer as issued (INV-3) and the corrected invoice's reverse charge (TAX-2)."""
    notes = await month_credit_notes(month).select_related("invoice")
    slugs = await _slugs({note.organization_id for note in notes})
    return [
        [
            note.number,
            slugs[note.organization_id],
            note.invoice.number,
            _time(note.issued_at),
            note.currency,
            note.destination.value,
            note.reason,
            note.subtotal,
            note.tax_total,
            note.total,
            str(_customer(note).get("country", "")),
            str(_customer(note).get("tax_id", "")),
            _reverse_charge(note.invoice),
        ]
        for note in notes
    ]


PAYMENT_COLUMNS = (
    "invoice_number",
    "organization",
    "amount",
    "currency",
    "status",
    "failure_code",
    "processor_charge_id",
    "charged_at",
    "refunded",
)


async def payment_rows(month: ExportMonth) -> list[list[Cell]]:
    """The month's payment attempts; `refunded` is what was refunded of the invoice a succeeded
    payment paid (refunds are recorded per invoice, INV-5)."""
    query = Payment.filter(
        Q(charged_at__gte=month.start, charged_at__lt=month.end)
        | Q(charged_at__isnull=True, created_at__gte=month.start, created_at__lt=month.end)
    )
    if month.organization_ids is not None:
        query = query.filter(invoice__organization_id__in=list(month.organization_ids))
    payments = await query.order_by("charged_at", "created_at").select_related("invoice")
    refunded: dict[UUID, int] = defaultdict(int)
    if payments:
        for invoice_id, amount in await Refund.filter(
            invoice_id__in=list({payment.invoice_id for payment in payments})
        ).values_list("invoice_id", "amount"):
            refunded[invoice_id] += amount
    slugs = await _slugs({payment.invoice.organization_id for payment in payments})
    return [
        [
            payment.invoice.number,
            slugs[payment.invoice.organization_id],
            payment.amount,
            payment.currency,
            payment.status,
            payment.failure_code or "",
            payment.processor_charge_id or "",
            _time(payment.charged_at or payment.created_at),
            refunded[payment.invoice_id] if payment.status == "SUCCEEDED" else 0,
        ]
        for payment in payments
    ]


TAX_REPORT_COLUMNS = (
    "month",
    "country",
    "tax",
    "rate_percent",
    "inclusive",
    "reverse_charge",
    "currency",
    "taxable_amount",
    "tax_amount",
    "invoices",
    "credit_notes",
)


@register_tax_source
async def taxed_invoices(month: ExportMonth) -> list[TaxedDocument]:
    """The month's invoices as the tax report reads them: the taxable amount and tax per rate
    each shows (TAX-1); a void invoice charges no tax."""
    return [
        TaxedDocument(
            number=invoice.number,
            currency=invoice.currency,
            country=str(_customer(invoice).get("country", "")),
            rates=[RateTotal.from_json(total) for total in invoice.tax_summary],
        )
        for invoice in await month_invoices(month).exclude(status=InvoiceStatus.VOID)
    ]


@register_tax_source
async def taxed_credit_notes(month: ExportMonth) -> list[TaxedDocument]:
    """The month's credit notes as the tax report reads them (CRN-1, TAX-1): the taxable amount
    and the tax per rate they reverse, negated, so the report nets them against the invoices."""
    return [
        TaxedDocument(
            number=note.number,
            currency=note.currency,
            country=str(_customer(note).get("country", "")),
            rates=[
                RateTotal(total.rate, -total.taxable, -total.tax)
                for total in map(RateTotal.from_json, note.tax_summary or [])
            ],
            kind=CREDIT_NOTE,
        )
        for note in await month_credit_notes(month)
    ]


async def tax_report_rows(month: ExportMonth) -> list[list[Cell]]:
    documents: list[TaxedDocument] = []
    for source in TAX_DOCUMENT_SOURCES:
        documents += await source(month)
    return [
        [
            row.month,
            row.country,
            row.tax,
            row.percent,
            row.inclusive,
            row.reverse_charge,
            row.currency,
            row.taxable,
            row.tax_amount,
            row.invoices,
            row.credit_notes,
        ]
        for row in tax_report(month.month, documents)
    ]


register_export(ExportKind("invoices", INVOICE_COLUMNS, invoice_rows))
register_export(ExportKind("credit-notes", CREDIT_NOTE_COLUMNS, credit_note_rows))
register_export(ExportKind("payments", PAYMENT_COLUMNS, payment_rows))
register_export(ExportKind("tax-report", TAX_REPORT_COLUMNS, tax_report_rows))
