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


def note(number: str, *rates: tuple[TaxRate, int, int], currency: str = "USD") -> TaxedDocument:
    """A credit note as the tax source gives it: its rate totals negated (it takes tax back)."""
    negated = [(rate, -taxable, -tax) for rate, taxable, tax in rates]
    return doc(number, *negated, currency=currency, kind=CREDIT_NOTE)


# CRN-1: the month's credit notes net the invoices' figures, per rate, currency and country.
NETTING = [
    pytest.param(
        [doc("A-1", (IT, 23400, 5148)), note("CN-1", (IT, 8197, 1803))],
        [row("IT", IT, 15203, 3345, 1, credit_notes=1)],
        id="an invoice and a partial refund at 22 %: the net figures",
    ),
    pytest.param(
        [doc("A-1", (IT, 23400, 5148)), note("CN-1", (IT, 23400, 5148))],
        [row("IT", IT, 0, 0, 1, credit_notes=1)],
        id="a full refund nets to zero and is still counted",
    ),
    pytest.param(
        [note("CN-1", (IT, 1000, 220))],
        [row("IT", IT, -1000, -220, 0, credit_notes=1)],
        id="a credit note alone in the month (its invoice in an earlier one): negative",
    ),
    pytest.param(
        [doc("B-1", (DE_RC, 9800, 0)), note("CN-2", (DE_RC, 4900, 0))],
        [row("DE", DE_RC, 4900, 0, 1, credit_notes=1)],
        id="reverse charge: the taxable amount nets, no tax either way (TAX-2)",
    ),
    pytest.param(
        [
            doc("A-1", (IT, 3000, 660), (FR, 2000, 400)),
            note("CN-1", (IT, 1500, 330), (FR, 500, 100)),
            note("CN-2", (IT, 100, 22)),
        ],
        [row("FR", FR, 1500, 300, 1, credit_notes=1), row("IT", IT, 1400, 308, 1, credit_notes=2)],
        id="credit notes over two rates: each rate nets apart, each note counted per rate",
    ),
    pytest.param(
        [doc("A-1", (IT, 3000, 660)), note("CN-1", (IT, 1000, 220), currency="EUR")],
        [
            row("IT", IT, -1000, -220, 0, credit_notes=1, currency="EUR"),
            row("IT", IT, 3000, 660, 1),
        ],
        id="a credit note nets only its own currency (CUR-1)",
    ),
    pytest.param(
        [doc("A-1", (IT, 3000, 660)), note("CN-1", (NO_TAX, 500, 0))],
        [row("IT", IT, 3000, 660, 1)],
        id="an untaxed credit is left out, as on the invoice",
    ),
]


@pytest.mark.parametrize(("documents", "expected"), NETTING)
def test_credit_notes_net_the_tax_report_rule_crn_1_tax_1(
    documents: list[TaxedDocument], expected: list[TaxReportRow]
) -> None:
    assert tax_report("2026-03", documents) == expected


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
