"""The month's tax report (TAX-1, TAX-2, issue 18's finance exports): the taxable amount, the tax
and the number of documents per country, tax, rate, currency and reverse charge, summed from the
taxable amount and tax per rate each document shows (billing.tax.RateTotal, rounded once per line
when the document was issued: nothing is rounded again here). Pure: the resolvers load the
month's documents and ask here.

A document is an invoice or, later, a credit note: a credit note's rate totals are given
negative (it takes back tax), and it is counted in `credit_notes`, not `invoices`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from billing.tax import NO_TAX, RateTotal, TaxRate

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DOCUMENT_KINDS = frozenset({INVOICE, CREDIT_NOTE})


@dataclass(frozen=True)
class TaxedDocument:
    """What the report needs of one issued document."""

    number: str
    currency: str
    country: str  # the customer's, as issued (INV-3): for a rate that names none
    rates: Sequence[RateTotal]
    kind: str = INVOICE


@dataclass(frozen=True)
class TaxReportRow:
    month: str  # YYYY-MM
    country: str
    tax: str  # the tax's name, e.g. "VAT"
    percent: str  # exact, as in the catalog ("22", "8.875")
    inclusive: bool
    reverse_charge: bool
    currency: str
    taxable: int  # minor units
    tax_amount: int  # minor units
    invoices: int
    credit_notes: int


_Key = tuple[str, str, str, bool, bool, str]


def tax_report(month: str, documents: Iterable[TaxedDocument]) -> list[TaxReportRow]:
    """One row per (country, tax, percent, inclusive, reverse charge, currency), sorted by them;
    a rate of no tax is left out, as on the invoice. A document is counted once per row it has a
    rate in. Amounts are the exact sums of the documents' figures."""
    sums: dict[_Key, list[int]] = {}
    for document in documents:
        if document.kind not in DOCUMENT_KINDS:
            raise ValueError(f"Unknown document kind {document.kind!r}")
        counted: set[_Key] = set()
        for total in document.rates:
            if total.rate == NO_TAX:
                continue
            key = _key(total.rate, document)
            figures = sums.setdefault(key, [0, 0, 0, 0])
            figures[0] += total.taxable
            figures[1] += total.tax
            if key not in counted:
                counted.add(key)
                figures[2 if document.kind == INVOICE else 3] += 1
    return [
        TaxReportRow(
            month=month,
            country=country,
            tax=name,
            percent=percent,
            inclusive=inclusive,
            reverse_charge=reverse_charge,
            currency=currency,
            taxable=taxable,
            tax_amount=tax,
            invoices=invoices,
            credit_notes=credit_notes,
        )
        for (country, name, percent, inclusive, reverse_charge, currency), (
            taxable,
            tax,
            invoices,
            credit_notes,
        ) in sorted(sums.items())
    ]


def _key(rate: TaxRate, document: TaxedDocument) -> _Key:
    country = "-".join(part for part in (rate.country or document.country, rate.region) if part)
    return (
        country.upper(),
        rate.name,
        rate.percent,
        rate.inclusive,
        rate.reverse_charge,
        document.currency,
    )
