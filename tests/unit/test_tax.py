"""billing/tax.py (TAX-1, TAX-2, MNY-2): rates by address, tax per line after the discount,
inclusive and exclusive, rounded once half away from zero; the expected amounts are literals,
each checked here against an independent calculation with exact fractions."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.quote import Line
from billing.tax import (
    NO_TAX,
    REVERSE_CHARGE_LEGEND,
    RateTotal,
    TaxCustomer,
    TaxRate,
    TaxTable,
    legend,
    line_taxable,
    line_total,
    lines_total,
    rate_for,
    summary,
    tax_lines,
    tax_on,
    taxed,
)

IT = TaxRate("VAT", "22", country="IT")
DE = TaxRate("VAT", "19", country="DE")
FR = TaxRate("VAT", "20", country="FR")
DE_INCLUSIVE = TaxRate("VAT", "19", inclusive=True, country="DE")
QC = TaxRate("QST", "9.975", country="CA", region="QC")
CA = TaxRate("GST", "5", country="CA")
DEMO = TaxTable(rates=(IT, DE, FR, CA, QC), seller_country="US")


def independent_tax(base: int, percent: str, inclusive: bool) -> int:
    """Exact fractions, then Decimal's ROUND_HALF_UP (away from zero): not billing's code."""
    share = Fraction(percent) / 100
    if inclusive:
        share = share / (1 + share)
    exact = Fraction(base) * share
    quotient = Decimal(exact.numerator) / Decimal(exact.denominator)
    return int(quotient.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("amount", "discount", "rate", "expected"),
    [
        (10000, 0, IT, 2200),  # 100.00 x 22 %
        (999, 0, IT, 220),  # 219.78
        (1025, 0, IT, 226),  # 225.5: half away from zero
        (-1025, 0, IT, -226),  # a credit: -225.5, away from zero
        (10000, 2000, IT, 1760),  # after the discount: 80.00 x 22 %
        (4999, 1250, DE, 712),  # 37.49 x 19 % = 7.1231
        (1, 1, DE, 0),  # wholly discounted
        (11900, 0, DE_INCLUSIVE, 1900),  # 119.00 contains 19.00
        (1000, 0, DE_INCLUSIVE, 160),  # 1000 x 19/119 = 159.66
        (11900, 1900, DE_INCLUSIVE, 1597),  # 10000 x 19/119 = 1596.64
        (-5950, 0, DE_INCLUSIVE, -950),  # a credit, inclusive
        (100000, 0, QC, 9975),  # a region's rate, four decimals
        (333, 0, QC, 33),  # 33.21675
        (10000, 0, NO_TAX, 0),
    ],
)
def test_tax_per_line_after_discount_rule_tax_1_mny_2(
    amount: int, discount: int, rate: TaxRate, expected: int
) -> None:
    assert independent_tax(amount - discount, rate.percent, rate.inclusive) == expected
    line = taxed(Line("x", amount, discount=discount), rate)
    assert (line.tax, line.tax_rate) == (expected, rate)
    assert tax_on(amount - discount, rate) == expected


@pytest.mark.parametrize(
    ("amount", "discount", "rate", "total", "taxable"),
    [
        (10000, 0, IT, 12200, 10000),
        (10000, 2000, IT, 9760, 8000),
        (11900, 0, DE_INCLUSIVE, 11900, 10000),
        (11900, 1900, DE_INCLUSIVE, 10000, 8403),
        (10000, 0, None, 10000, 10000),
    ],
)
def test_line_total_and_taxable_amount_rule_tax_1(
    amount: int, discount: int, rate: TaxRate | None, total: int, taxable: int
) -> None:
    line = taxed(Line("x", amount, discount=discount), rate)
    assert (line_total(line), line_taxable(line)) == (total, taxable)


REVERSE = TaxRate("VAT", "0", country="DE", reverse_charge=True)


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        (TaxCustomer("IT"), IT),  # an Italian consumer
        (TaxCustomer("it"), IT),
        (TaxCustomer("DE"), DE),
        (TaxCustomer("FR"), FR),
        (TaxCustomer("DE", vat_number="DE136695976"), REVERSE),  # TAX-2
        (TaxCustomer("ES", vat_number="ESA12345674"), replace(REVERSE, country="ES")),
        (TaxCustomer("ES"), NO_TAX),  # no rate in this table
        (TaxCustomer("US"), NO_TAX),
        (TaxCustomer("US", vat_number="12-3456789"), NO_TAX),
        (TaxCustomer(""), NO_TAX),  # no billing country
        (TaxCustomer("CA", region="QC"), QC),  # a region's own rate
        (TaxCustomer("CA", region="ON"), CA),  # else the country's
        (TaxCustomer("CA"), CA),
    ],
)
def test_rate_from_the_billing_address_rule_tax_1_tax_2(
    customer: TaxCustomer, expected: TaxRate
) -> None:
    assert rate_for(DEMO, customer) == expected


def test_no_reverse_charge_in_the_sellers_own_country_rule_tax_2() -> None:
    table = TaxTable(rates=(IT, DE), seller_country="DE")
    assert rate_for(table, TaxCustomer("DE", vat_number="DE136695976")) == DE
    assert rate_for(table, TaxCustomer("IT", vat_number="IT00743110157")).reverse_charge
    off = TaxTable(rates=(IT,), seller_country="US", eu_reverse_charge=False)
    assert rate_for(off, TaxCustomer("IT", vat_number="IT00743110157")) == IT


def test_credits_are_taxed_at_the_rate_they_reverse_rule_tax_1() -> None:
    lines = [Line("Unused time", -5000), Line("Remaining time", 8000)]
    taxed_lines = tax_lines(lines, DE, IT)
    assert [(line.tax, line.tax_rate) for line in taxed_lines] == [(-1100, IT), (1520, DE)]
    same = tax_lines(lines, DE, None)
    assert [line.tax for line in same] == [-950, 1520]


def test_summary_per_rate_and_legend_rule_tax_1_tax_2() -> None:
    lines = tax_lines(
        [Line("Unused time", -5000), Line("a", 8000), Line("b", 1025, discount=25)], DE, IT
    )
    assert summary(lines) == (RateTotal(IT, -5000, -1100), RateTotal(DE, 9000, 1710))
    assert lines_total(lines) == -5000 - 1100 + 9000 + 1710
    assert legend(rate.rate for rate in summary(lines)) == ""
    reverse = tax_lines([Line("a", 8000)], REVERSE, None)
    assert legend(r.rate for r in summary(reverse)) == REVERSE_CHARGE_LEGEND
    assert summary([Line("untaxed", 100)]) == ()
    assert summary(tax_lines([Line("no tax where the customer is", 100)], NO_TAX, None)) == ()


def test_rates_round_trip_through_json() -> None:
    for rate in (IT, DE_INCLUSIVE, QC, REVERSE, NO_TAX):
        assert TaxRate.from_json(rate.to_json()) == rate
    assert TaxTable.from_json(DEMO.to_json()) == DEMO
    assert TaxTable.from_json(None) == TaxTable()


@given(
    gross=st.integers(-(10**12), 10**12),
    discount_share=st.fractions(0, 1),
    percent=st.sampled_from(["19", "22", "20", "7.7", "9.975", "0", "8.875", "99.9999"]),
)
def test_an_inclusive_split_sums_to_the_gross_exactly_rule_tax_1(
    gross: int, discount_share: Fraction, percent: str
) -> None:
    discount = int(gross * discount_share)
    line = taxed(Line("x", gross, discount=discount), TaxRate("VAT", percent, inclusive=True))
    assert line_taxable(line) + line.tax == gross - discount
    assert line_total(line) == gross - discount
    assert line.tax == independent_tax(gross - discount, percent, inclusive=True)


@given(amount=st.integers(-(10**12), 10**12), percent=st.sampled_from(["22", "19", "9.975"]))
def test_an_exclusive_tax_is_added_on_top_rule_tax_1(amount: int, percent: str) -> None:
    line = taxed(Line("x", amount), TaxRate("VAT", percent))
    assert line_total(line) == amount + independent_tax(amount, percent, inclusive=False)
    assert line_taxable(line) == amount
