"""The invoice PDF shows each line's discount and the discount total (DSC-2, INV-2)."""

from __future__ import annotations

import re
import zlib

from gateway.invoice_pdf import render_invoice
from tools.invoice_pdf_sample import sample


def _text(pdf: bytes) -> str:
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL)
    return "".join(zlib.decompress(s).decode("latin-1", "replace") for s in streams)


def test_pdf_shows_line_discounts_and_the_discount_total_rule_dsc_2() -> None:
    invoice, lines = sample()
    assert [(line.amount, line.discount) for line in lines] == [(-2032, -406), (3048, 610)]
    text = _text(render_invoice(invoice, lines))
    for shown in (
        "Less the discount it was billed with",
        "$4.06",
        "-$6.10",
        "Subtotal",
        "$10.16",
        "Discounts",
        "-$2.04",
        "$8.12",
    ):
        assert shown in text, shown
