"""billing/tax_report.py (TAX-1, TAX-2): the month's taxable amount and tax per country, rate,
currency and reverse charge are the exact sums of the documents' rate totals; the expected
figures are literals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.tax import NO_TAX, RateTotal, TaxRate
from billing.tax_report import CREDIT_NOTE, TaxedDocument, TaxReportRow, tax_report

IT = TaxRate("VAT", "22", country="IT")
FR = TaxRate("VAT", "20", country="FR")
DE_RC = TaxRate("VAT", "0", country="DE", reverse_charge=True)
DE_INCLUSIVE = TaxRate("VAT", "19", inclusive=True, country="DE")
QC = TaxRate("QST", "9.975", country="CA", region="QC")
UNNAMED = TaxRate("Sales tax", "8.875")  # a rate that names no country: the customer's


def doc(
    number: str,
    *rates: tuple[TaxRate, int, int],
    currency: str = "USD",
    country: str = "",
    kind: str = "invoice",
) -> TaxedDocument:
    return TaxedDocument(
        number, currency, country, [RateTotal(r, taxable, tax) for r, taxable, tax in rates], kind
    )


def row(
    country: str,
    rate: TaxRate,
    taxable: int,
    tax: int,
    invoices: int,
    credit_notes: int = 0,
    currency: str = "USD",
) -> TaxReportRow:
    return TaxReportRow(
        "2026-03",
        country,
        rate.name,
        rate.percent,
        rate.inclusive,
        rate.reverse_charge,
        currency,
        taxable,
        tax,
        invoices,
        credit_notes,
    )


CASES = [
    pytest.param([], [], id="no documents, no rows"),
    pytest.param(
        [doc("A-1", (IT, 3000, 660)), doc("A-2", (IT, 1016, 224))],
        [row("IT", IT, 4016, 884, 2)],
        id="two Italian invoices at 22 % add up exactly",
    ),
    pytest.param(
        [doc("A-1", (IT, -1597, -351), (FR, 2129, 426))],
        [row("FR", FR, 2129, 426, 1), row("IT", IT, -1597, -351, 1)],
        id="a credit at the reversed rate and a charge at the new one: two rows, sorted",
    ),
    pytest.param(
        [doc("B-1", (DE_RC, 1016, 0)), doc("B-2", (DE_RC, 3000, 0))],
        [row("DE", DE_RC, 4016, 0, 2)],
        id="reverse charge: taxable amount, no tax (TAX-2)",
    ),
    pytest.param(
        [doc("B-1", (DE_RC, 1016, 0)), doc("C-1", (DE_INCLUSIVE, 853, 163))],
        [row("DE", DE_RC, 1016, 0, 1), row("DE", DE_INCLUSIVE, 853, 163, 1)],
        id="same country, reverse charge and 19 % inclusive apart",
    ),
    pytest.param(
        [doc("A-1", (IT, 3000, 660)), doc("E-1", (IT, 3000, 660), currency="EUR")],
        [row("IT", IT, 3000, 660, 1, currency="EUR"), row("IT", IT, 3000, 660, 1)],
        id="currencies are never added together (CUR-1)",
    ),
    pytest.param(
        [doc("A-1", (IT, 3000, 660)), doc("CN-1", (IT, -1000, -220), kind=CREDIT_NOTE)],
        [row("IT", IT, 2000, 440, 1, credit_notes=1)],
        id="a credit note takes its tax back and is counted apart",
    ),
    pytest.param(
        [doc("A-1", (NO_TAX, 5000, 0)), doc("A-2", (QC, 10000, 998))],
        [row("CA-QC", QC, 10000, 998, 1)],
        id="no tax is left out; a region is shown with its country",
    ),
    pytest.param(
        [doc("N-1", (UNNAMED, 10000, 888), country="us")],
        [row("US", UNNAMED, 10000, 888, 1)],
        id="a rate naming no country takes the customer's",
    ),
]


@pytest.mark.parametrize(("documents", "expected"), CASES)
def test_tax_report_rows_rule_tax_1_tax_2(
    documents: list[TaxedDocument], expected: list[TaxReportRow]
) -> None:
    assert tax_report("2026-03", documents) == expected


def test_an_unknown_document_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="receipt"):
        tax_report("2026-03", [doc("X-1", (IT, 1, 0), kind="receipt")])


amounts = st.integers(min_value=-(10**9), max_value=10**9)


@given(st.lists(st.tuples(st.sampled_from([IT, FR, DE_RC, QC]), amounts, amounts), max_size=20))
def test_the_report_sums_every_document_to_the_cent_rule_tax_1(
    totals: list[tuple[TaxRate, int, int]],
) -> None:
    documents = [doc(f"A-{i}", total) for i, total in enumerate(totals)]
    rows = tax_report("2026-03", documents)
    assert sum(r.taxable for r in rows) == sum(taxable for _, taxable, _ in totals)
    assert sum(r.tax_amount for r in rows) == sum(tax for _, _, tax in totals)
    assert sum(r.invoices for r in rows) == len(totals)
