"""Invoices (and credit notes, gateway/credit_note_pdf.py, in the same layout) as PDF documents
(INV-2), drawn with fpdf2: issuer, billing details, lines with their
discount (DSC-2) and tax, the subtotal, the discounts, the taxable amount and tax per rate (TAX-1,
TAX-2), credit, total and status, all as they were when the invoice was issued (INV-3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fpdf import FPDF

from billing import invoice_parties
from billing.money import Money
from billing.tax import NO_TAX, RateTotal, TaxRate
from models import Invoice, InvoiceLine

GREY = (110, 110, 110)
INK = (20, 20, 20)


def _text(value: str) -> str:
    # The core PDF fonts speak Windows-1252 only.
    return value.encode("cp1252", "replace").decode("cp1252")


def _day(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else ""


@dataclass(frozen=True)
class DocumentLine:
    """One printed line: its description, rate, tax, amount, and a discount printed under it."""

    description: str
    rate: TaxRate | None
    tax: int
    amount: int
    discount: int = 0


@dataclass(frozen=True)
class Document:
    """What an invoice or a credit note prints, in the one layout both share: a title and facts
    beside the issuer, the customer, the lines, the totals, a status, a legend and a footnote."""

    title: str  # "INVOICE", "CREDIT NOTE"
    name: str  # the PDF's title
    currency: str
    details: dict[str, Any]  # INV-3: issuer and customer as issued
    facts: list[str]
    lines: list[DocumentLine]
    totals: list[tuple[str, int]]
    bold_total: str  # the label of the total printed in bold
    status: str
    status_good: bool
    legend: str = ""
    notes: list[str] = field(default_factory=list)
    footnote: str = ""


def render_invoice(invoice: Invoice, lines: Sequence[InvoiceLine]) -> bytes:
    return render_document(invoice_document(invoice, lines))


def invoice_document(invoice: Invoice, lines: Sequence[InvoiceLine]) -> Document:
    return Document(
        title="INVOICE",
        name=f"Invoice {invoice.number}",
        currency=invoice.currency,
        details=invoice.billing_details or {},
        facts=[
            f"Number  {invoice.number}",
            f"Issued  {_day(invoice.issued_at)}",
            f"Due  {_day(invoice.due_at)}",
            f"Paid  {_day(invoice.paid_at)}"
            if invoice.paid_at
            else f"Status  {invoice.status.value}",
        ],
        lines=[
            DocumentLine(
                line.description,
                TaxRate.from_json(line.tax_rate) if line.tax_rate else None,
                line.tax,
                line.amount,
                line.discount,
            )
            for line in lines
        ],
        totals=_invoice_totals(invoice),
        bold_total="Amount due",
        status=invoice.status.value,
        status_good=invoice.status.value == "PAID",
        legend=invoice.tax_legend,
        footnote=f"Amounts in {invoice.currency}. Thank you for your business.",
    )


def render_document(document: Document) -> bytes:
    pdf = FPDF(format="A4")
    # CUR-1: the core fonts' WinAnsi encoding has "€" (fpdf2 encodes them as latin-1, which has
    # not, and refuses the character); _text keeps every string within cp1252.
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_title(document.name)
    _header(pdf, document)
    pdf.ln(8)
    _billed_to(pdf, document.details)
    pdf.ln(8)
    _lines(pdf, document)
    pdf.ln(3)
    _totals(pdf, document)
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 14)
    pdf.set_text_color(*((30, 130, 60) if document.status_good else (180, 40, 40)))
    pdf.cell(0, 8, _text(document.status), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(*GREY)
    pdf.ln(4)
    if document.legend:  # TAX-2
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5, _text(document.legend), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        pdf.set_text_color(*GREY)
        pdf.ln(2)
    for note in document.notes:
        pdf.set_font("Helvetica", "", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5, _text(note), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 5, _text(document.footnote), align="C")
    return bytes(pdf.output())


def _money(document: Document, amount: int) -> str:
    return _text(Money(amount, document.currency).formatted())


def _header(pdf: FPDF, document: Document) -> None:
    """The issuer and its address on the left; the title, number, dates and status on the
    right."""
    issued_by = invoice_parties.issuer(document.details)
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_text_color(*INK)
    pdf.cell(110, 8, _text(issued_by.name if issued_by else ""))
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 8, document.title, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(*GREY)
    issuer_lines = issued_by.lines if issued_by else []
    facts = document.facts
    for index in range(max(len(issuer_lines), len(facts))):
        left = issuer_lines[index] if index < len(issuer_lines) else ""
        right = facts[index] if index < len(facts) else ""
        pdf.cell(110, 5, _text(left))
        pdf.cell(0, 5, _text(right), align="R", new_x="LMARGIN", new_y="NEXT")


def _billed_to(pdf: FPDF, details: dict[str, Any]) -> None:
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 5, "BILLED TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.set_text_color(*INK)
    billed_to = invoice_parties.customer(details)
    pdf.cell(0, 6, _text(billed_to.name if billed_to else ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for address_line in billed_to.lines if billed_to else []:
        pdf.cell(0, 5, _text(address_line), new_x="LMARGIN", new_y="NEXT")


def _lines(pdf: FPDF, document: Document) -> None:
    pdf.set_draw_color(*GREY)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_text_color(*GREY)
    pdf.cell(110, 7, "DESCRIPTION", border="B")
    pdf.cell(25, 7, "TAX RATE", border="B", align="R")
    pdf.cell(25, 7, "TAX", border="B", align="R")
    pdf.cell(0, 7, "AMOUNT", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.set_text_color(*INK)
    for line in document.lines:
        top = pdf.get_y()
        pdf.multi_cell(110, 5, _text(line.description), new_x="LMARGIN", new_y="NEXT")
        bottom = max(pdf.get_y(), top + 7)
        pdf.set_xy(pdf.l_margin + 110, top)
        rate = line.rate
        pdf.cell(25, 5, _text(_rate(rate)), align="R")
        pdf.cell(25, 5, _money(document, line.tax) if rate not in (None, NO_TAX) else "", align="R")
        pdf.cell(0, 5, _money(document, line.amount), align="R")
        pdf.set_xy(pdf.l_margin, bottom)
        if line.discount:  # DSC-2: the line's discount, under it (the tax is on what remains)
            pdf.set_text_color(*GREY)
            # On a credit: the discount the period was billed with, not given back twice.
            label = (
                "    Discount" if line.amount >= 0 else "    Less the discount it was billed with"
            )
            pdf.cell(160, 6, label)
            pdf.cell(
                0, 6, _money(document, -line.discount), align="R", new_x="LMARGIN", new_y="NEXT"
            )
            pdf.set_text_color(*INK)


def _rate(rate: TaxRate | None) -> str:
    if rate is None:
        return ""
    if rate == NO_TAX:
        return "none"
    if rate.reverse_charge:
        return "0 % RC"
    return f"{rate.percent} %" + (" incl." if rate.inclusive else "")


def tax_totals(rates: Sequence[RateTotal], currency: str) -> list[tuple[str, int]]:
    """TAX-1: the taxable amount (after discounts) and the tax of each rate; an inclusive rate's
    tax is in the total."""
    return [
        (
            f"{r.rate.label}{' included' if r.rate.inclusive else ''} "
            f"on {Money(r.taxable, currency).formatted()}",
            r.tax,
        )
        for r in rates
    ]


def _invoice_totals(invoice: Invoice) -> list[tuple[str, int]]:
    rates = [RateTotal.from_json(data) for data in invoice.tax_summary or []]
    # The lines' amounts before their discounts, without exclusive tax (MNY-2, DSC-2, TAX-1).
    exclusive_tax = sum(r.tax for r in rates if not r.rate.inclusive)
    subtotal = invoice.total + invoice.discount_total - exclusive_tax
    show_subtotal = invoice.discount_total != 0 or any(not r.rate.inclusive for r in rates)
    return [
        *([("Subtotal", subtotal)] if show_subtotal else []),
        *([("Discounts", -invoice.discount_total)] if invoice.discount_total else []),
        *tax_totals(rates, invoice.currency),
        ("Total", invoice.total),
        ("Credit applied", -invoice.credit_applied),
        ("Amount due", invoice.amount_due),
    ]


def _totals(pdf: FPDF, document: Document) -> None:
    for label, amount in document.totals:
        bold = label == document.bold_total
        pdf.set_font("Helvetica", "B" if bold else "", 11 if bold else 10)
        pdf.cell(150, 7, _text(label), align="R")
        pdf.cell(0, 7, _money(document, amount), align="R", new_x="LMARGIN", new_y="NEXT")
