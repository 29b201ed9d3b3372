"""Credit notes as PDF documents (CRN-1), in the invoices' layout (gateway/invoice_pdf.py): the
invoice it corrects, its lines with the tax they reverse at their rates, the totals, and where the
money went."""

from __future__ import annotations

from collections.abc import Sequence

from billing.credit_notes import CreditDestination
from billing.money import Money
from billing.tax import RateTotal, TaxRate
from gateway.invoice_pdf import Document, DocumentLine, _day, render_document, tax_totals
from models import CreditNote, CreditNoteLine, Invoice

DESTINATIONS = {
    CreditDestination.REFUNDED_TO_CARD: "REFUNDED TO CARD",
    CreditDestination.CREDIT_BALANCE: "ADDED TO CREDIT BALANCE",
}


def render_credit_note(
    note: CreditNote, lines: Sequence[CreditNoteLine], invoice: Invoice
) -> bytes:
    return render_document(credit_note_document(note, lines, invoice))


def credit_note_document(
    note: CreditNote, lines: Sequence[CreditNoteLine], invoice: Invoice
) -> Document:
    rates = [RateTotal.from_json(data) for data in note.tax_summary or []]
    total = Money(note.total, note.currency).formatted()
    where = (
        f"{total} was refunded to the card the invoice was paid with."
        if note.destination is CreditDestination.REFUNDED_TO_CARD
        else f"{total} was added to the credit balance, which pays the next invoices first."
    )
    return Document(
        title="CREDIT NOTE",
        name=f"Credit note {note.number}",
        currency=note.currency,
        details=note.billing_details or {},
        facts=[
            f"Number  {note.number}",
            f"Issued  {_day(note.issued_at)}",
            f"Corrects invoice  {invoice.number}",
            f"Invoice issued  {_day(invoice.issued_at)}",
        ],
        lines=[
            DocumentLine(
                line.description,
                TaxRate.from_json(line.tax_rate) if line.tax_rate else None,
                line.tax,
                line.amount,
            )
            for line in lines
        ],
        totals=[
            ("Subtotal", note.subtotal),
            *tax_totals(rates, note.currency),
            ("Total credited", note.total),
        ],
        bold_total="Total credited",
        status=DESTINATIONS[note.destination],
        status_good=True,
        legend=str(invoice.tax_legend or ""),
        notes=[*([f"Reason: {note.reason}"] if note.reason else []), where],
        footnote=f"Amounts in {note.currency}, credited (without tax, then the tax reversed).",
    )
