"""billing/credit_notes.py (CRN-1, TAX-1, MNY-2): a refund spread over the refunded invoice's
lines at their rates, and the credit of a plan change its charges do not use, as credit note
lines; net + tax always sum exactly to what is credited."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.credit_notes import (
    CreditLine,
    allocate,
    credit_total,
    refund_lines,
    split_change,
    split_gross,
)
from billing.quote import Line
from billing.tax import TaxRate, line_total, lines_total, taxed

IT = TaxRate("VAT", "22", country="IT")
DE_INCLUSIVE = TaxRate("VAT", "19", inclusive=True, country="DE")
QC = TaxRate("QST", "9.975", country="CA", region="QC")
REVERSE = TaxRate("VAT", "0", country="DE", reverse_charge=True)


@pytest.mark.parametrize(
    ("gross", "rate", "net", "tax"),
    [
        (12200, IT, 10000, 2200),  # 122.00 with 22 %: 100.00 + 22.00
        (5000, IT, 4098, 902),  # 50 x 22/122 = 9.0164 -> 9.02
        (1, IT, 1, 0),  # 0.18 of a cent rounds to 0
        (11900, DE_INCLUSIVE, 10000, 1900),
        (10998, QC, 10000, 998),  # 9.975 %: 997.5.. of 10998 x 0.09975/1.09975 = 997.5
        (5000, REVERSE, 5000, 0),  # TAX-2: no tax to reverse
        (5000, None, 5000, 0),
    ],
)
def test_split_gross_rule_crn_1(gross: int, rate: TaxRate | None, net: int, tax: int) -> None:
    assert split_gross(gross, rate) == (net, tax)
    assert net + tax == gross


@pytest.mark.parametrize(
    ("amount", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),  # the first of equal remainders gets the cent
        (100, [2, 1], [67, 33]),
        (5000, [12200, -2440], [6250, -1250]),  # a credit line of the invoice takes its part
        (7, [3, 3, 1], [3, 3, 1]),
        (1, [1, 1], [1, 0]),
    ],
)
def test_allocate_largest_remainder_rule_crn_1(
    amount: int, weights: list[int], shares: list[int]
) -> None:
    assert allocate(amount, weights) == shares
    assert sum(shares) == amount


def test_allocate_refuses_weights_without_a_positive_sum() -> None:
    with pytest.raises(ValueError, match="positive sum"):
        allocate(10, [5, -5])


def test_partial_refund_of_an_italian_invoice_rule_crn_1() -> None:
    # 100.00 + 22 % VAT = 122.00 charged; 50.00 refunded: 40.98 + 9.02 VAT.
    lines = [taxed(Line("Email 10,000", 10000), IT)]
    assert refund_lines(5000, lines, "Refund") == [CreditLine("Refund", 4098, 902, IT)]


def test_refund_of_a_change_with_a_credit_line_at_the_same_rate_rule_crn_1() -> None:
    # CHG-3 at 22 %: -20.32 - 4.47 VAT credited, 30.48 + 6.71 VAT charged: 12.40 paid.
    lines = [taxed(Line("Unused time", -2032), IT), taxed(Line("Remaining time", 3048), IT)]
    assert lines_total(lines) == 1240
    assert refund_lines(500, lines, "Refund") == [CreditLine("Refund", 410, 90, IT)]
    assert refund_lines(1240, lines, "Refund") == [CreditLine("Refund", 1016, 224, IT)]
    # The rest after 5.00: 7.40, of which 1.34 VAT, so that the two reverse the invoice's 2.24.
    assert refund_lines(740, lines, "Refund", already=500) == [CreditLine("Refund", 606, 134, IT)]


def test_refund_spread_over_the_invoice_rates_rule_crn_1() -> None:
    # 183.00 at 22 % (IT) and a reverse-charged 61.00: 244.00 paid, half refunded.
    lines = [
        taxed(Line("Store Business", 10000), IT),
        taxed(Line("Extra seats", 5000), IT),
        taxed(Line("Support", 6100), REVERSE),
    ]
    assert lines_total(lines) == 24400
    credited = refund_lines(12200, lines, "Refund")
    assert credited == [
        CreditLine("Refund (VAT 22 % (IT))", 7500, 1650, IT),  # 91.50 of 183.00, 16.50 of it VAT
        CreditLine("Refund (VAT reverse charge 0 %)", 3050, 0, REVERSE),
    ]
    assert credit_total(credited) == 12200


def test_refund_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        refund_lines(0, [Line("x", 100)], "Refund")


def test_change_whose_charges_use_the_credit_keeps_it_on_the_invoice_rule_crn_1() -> None:
    lines = [Line("Unused time", -3048), Line("Remaining time", 4065)]
    split = split_change(lines)
    assert split.invoice_lines == tuple(lines)
    assert split.credit_lines == ()


def test_annual_to_monthly_credit_excess_goes_to_a_credit_note_rule_crn_1() -> None:
    # The unused year (450.00) pays this month's 45.00; 405.00 is credited on a credit note.
    lines = [Line("Unused time on Store Business", -45000), Line("Store Business, month", 4500)]
    split = split_change(lines)
    assert lines_total(split.invoice_lines) == 0
    assert split.invoice_lines == (
        Line("Unused time on Store Business", -4500),
        Line("Store Business, month", 4500),
    )
    assert split.credit_lines == (CreditLine("Unused time on Store Business", 40500),)
    assert split.credit_total == 40500


def test_taxed_credit_excess_is_split_at_its_rate_rule_crn_1() -> None:
    # At 22 %: -450.00 - 99.00 VAT credited, 45.00 + 9.90 charged; 494.10 excess.
    lines = [
        taxed(Line("Unused time", -45000), IT),
        taxed(Line("Store Business, month", 4500), IT),
    ]
    split = split_change(lines)
    assert lines_total(split.invoice_lines) == 0
    assert split.credit_lines == (CreditLine("Unused time", 40500, 8910, IT),)
    kept = split.invoice_lines[0]
    assert (kept.amount, kept.tax) == (-4500, -990)


def test_whole_credit_lines_move_and_the_crossing_one_splits_rule_crn_1() -> None:
    lines = [
        Line("Unused time", -1000),
        Line("Unused prepaid periods", -3000),
        Line("New month", 1500),
    ]
    split = split_change(lines)
    assert split.credit_lines == (CreditLine("Unused prepaid periods", 2500),)
    assert split.invoice_lines == (
        Line("Unused time", -1000),
        Line("Unused prepaid periods", -500),
        Line("New month", 1500),
    )


RATES = st.sampled_from([None, IT, DE_INCLUSIVE, QC, REVERSE])


@given(
    amounts=st.lists(st.integers(min_value=-500_000, max_value=500_000), min_size=1, max_size=6),
    rates=st.lists(RATES, min_size=6, max_size=6),
)
def test_split_change_keeps_every_cent_rule_crn_1(
    amounts: list[int], rates: list[TaxRate | None]
) -> None:
    lines = [
        taxed(Line(f"line {i}", a), r) for i, (a, r) in enumerate(zip(amounts, rates, strict=False))
    ]
    total = lines_total(lines)
    split = split_change(lines)
    assert lines_total(split.invoice_lines) == max(total, 0)
    assert split.credit_total == max(-total, 0)
    assert all(c.amount >= 0 and c.tax >= 0 for c in split.credit_lines)
    # per rate, the invoice's and the credit note's tax make the change's tax
    for rate in {r for r in rates}:
        before = sum(line.tax for line in lines if line.tax_rate == rate)
        after = sum(line.tax for line in split.invoice_lines if line.tax_rate == rate)
        credited = sum(c.tax for c in split.credit_lines if c.tax_rate == rate)
        assert after - credited == before


@given(
    charges=st.lists(
        st.tuples(st.integers(min_value=1, max_value=1_000_000), RATES), min_size=1, max_size=5
    ),
    data=st.data(),
)
def test_refund_lines_sum_to_the_refund_rule_crn_1(
    charges: list[tuple[int, TaxRate | None]], data: st.DataObject
) -> None:
    lines = [taxed(Line(f"line {i}", a), r) for i, (a, r) in enumerate(charges)]
    paid = lines_total(lines)
    refund = data.draw(st.integers(min_value=1, max_value=paid))
    credited = refund_lines(refund, lines, "Refund")
    assert credit_total(credited) == refund
    for credit in credited:  # each rate's share is within a cent of its exact proportion
        at_rate = sum(line_total(x) for x in lines if x.tax_rate == credit.tax_rate)
        exact = Fraction(refund * at_rate, paid)
        assert abs(credit.total - exact) < 1
        if refund < paid:
            assert credit.tax == split_gross(credit.total, credit.tax_rate)[1]
    if refund < paid:  # the rest: both refunds together reverse the invoice's tax exactly
        rest = refund_lines(paid - refund, lines, "Refund", already=refund)
        assert credit_total(rest) == paid - refund
        reversed_tax = sum(c.tax for c in credited) + sum(c.tax for c in rest)
        assert reversed_tax == sum(line.tax for line in lines)
