"""Invoices as PDF documents (INV-2), drawn with fpdf2: issuer, billing details, lines with their
discount (DSC-2) and tax, the subtotal, the discounts, the taxable amount and tax per rate (TAX-1,
TAX-2), credit, total and status, all as they were when the invoice was issued (INV-3)."""

from __future__ import annotations

from collections.abc import Sequence
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


def render_invoice(invoice: Invoice, lines: Sequence[InvoiceLine]) -> bytes:
    details: dict[str, Any] = invoice.billing_details or {}
    pdf = FPDF(format="A4")
    # CUR-1: the core fonts' WinAnsi encoding has "€" (fpdf2 encodes them as latin-1, which has
    # not, and refuses the character); _text keeps every string within cp1252.
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_title(f"Invoice {invoice.number}")
    _header(pdf, invoice, details)
    pdf.ln(8)
    _billed_to(pdf, details)
    pdf.ln(8)
    _lines(pdf, invoice, lines)
    pdf.ln(3)
    _totals(pdf, invoice)
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 14)
    pdf.set_text_color(*((30, 130, 60) if invoice.status.value == "PAID" else (180, 40, 40)))
    pdf.cell(0, 8, invoice.status.value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.set_text_color(*GREY)
    pdf.ln(4)
    if invoice.tax_legend:  # TAX-2
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5, _text(invoice.tax_legend), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        pdf.set_text_color(*GREY)
        pdf.ln(2)
    pdf.cell(0, 5, _text(f"Amounts in {invoice.currency}. Thank you for your business."), align="C")
    return bytes(pdf.output())


def _money(invoice: Invoice, amount: int) -> str:
    return _text(Money(amount, invoice.currency).formatted())


def _header(pdf: FPDF, invoice: Invoice, details: dict[str, Any]) -> None:
    """The issuer and its address on the left; number, dates and status on the right."""
    issued_by = invoice_parties.issuer(details)
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_text_color(*INK)
    pdf.cell(110, 8, _text(issued_by.name if issued_by else ""))
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 8, "INVOICE", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(*GREY)
    issuer_lines = issued_by.lines if issued_by else []
    facts = [
        f"Number  {invoice.number}",
        f"Issued  {_day(invoice.issued_at)}",
        f"Due  {_day(invoice.due_at)}",
        f"Paid  {_day(invoice.paid_at)}" if invoice.paid_at else f"Status  {invoice.status.value}",
    ]
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


def _lines(pdf: FPDF, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    pdf.set_draw_color(*GREY)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_text_color(*GREY)
    pdf.cell(110, 7, "DESCRIPTION", border="B")
    pdf.cell(25, 7, "TAX RATE", border="B", align="R")
    pdf.cell(25, 7, "TAX", border="B", align="R")
    pdf.cell(0, 7, "AMOUNT", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.set_text_color(*INK)
    for line in lines:
        top = pdf.get_y()
        pdf.multi_cell(110, 5, _text(line.description), new_x="LMARGIN", new_y="NEXT")
        bottom = max(pdf.get_y(), top + 7)
        pdf.set_xy(pdf.l_margin + 110, top)
        rate = TaxRate.from_json(line.tax_rate) if line.tax_rate else None
        pdf.cell(25, 5, _text(_rate(rate)), align="R")
        pdf.cell(25, 5, _money(invoice, line.tax) if rate not in (None, NO_TAX) else "", align="R")
        pdf.cell(0, 5, _money(invoice, line.amount), align="R")
        pdf.set_xy(pdf.l_margin, bottom)
        if line.discount:  # DSC-2: the line's discount, under it (the tax is on what remains)
            pdf.set_text_color(*GREY)
            # On a credit: the discount the period was billed with, not given back twice.
            label = (
                "    Discount" if line.amount >= 0 else "    Less the discount it was billed with"
            )
            pdf.cell(160, 6, label)
            pdf.cell(
                0, 6, _money(invoice, -line.discount), align="R", new_x="LMARGIN", new_y="NEXT"
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


def _totals(pdf: FPDF, invoice: Invoice) -> None:
    rates = [RateTotal.from_json(data) for data in invoice.tax_summary or []]
    # TAX-1: the taxable amount (after discounts) and the tax of each rate; an inclusive rate's
    # tax is in the total.
    taxes = [
        (
            f"{r.rate.label}{' included' if r.rate.inclusive else ''} "
            f"on {Money(r.taxable, invoice.currency).formatted()}",
            r.tax,
        )
        for r in rates
    ]
    # The lines' amounts before their discounts, without exclusive tax (MNY-2, DSC-2, TAX-1).
    exclusive_tax = sum(r.tax for r in rates if not r.rate.inclusive)
    subtotal = invoice.total + invoice.discount_total - exclusive_tax
    show_subtotal = invoice.discount_total != 0 or any(not r.rate.inclusive for r in rates)
    totals = [
        *([("Subtotal", subtotal)] if show_subtotal else []),
        *([("Discounts", -invoice.discount_total)] if invoice.discount_total else []),
        *taxes,
        ("Total", invoice.total),
        ("Credit applied", -invoice.credit_applied),
        ("Amount due", invoice.amount_due),
    ]
    for label, amount in totals:
        bold = label == "Amount due"
        pdf.set_font("Helvetica", "B" if bold else "", 11 if bold else 10)
        pdf.cell(150, 7, label, align="R")
        pdf.cell(0, 7, _money(invoice, amount), align="R", new_x="LMARGIN", new_y="NEXT")
