"""rule MNY-1: integer minor units, a currency, never floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import CurrencyMismatchError, Money, total

amounts = st.integers(min_value=-(10**12), max_value=10**12)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (15900, "USD", "$159.00"),
        (152600, "USD", "$1,526.00"),
        (5, "USD", "$0.05"),
        (-1050, "EUR", "-€10.50"),
        (1234, "JPY", "¥1,234"),
        (99, "CHF", "0.99 CHF"),
        (0, "USD", "$0.00"),
    ],
)
def test_formatting(amount: int, currency: str, text: str) -> None:
    assert Money(amount, currency).formatted() == text


def test_floats_and_unknown_currencies_are_refused() -> None:
    with pytest.raises(TypeError):
        Money(19.99, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")
    with pytest.raises(ValueError, match="Unsupported currency"):
        Money(100, "XYZ")


def test_currencies_do_not_mix() -> None:
    with pytest.raises(CurrencyMismatchError):
        Money(100, "USD") + Money(100, "EUR")


@given(amounts, amounts)
def test_addition_and_subtraction_are_exact(a: int, b: int) -> None:
    assert (Money(a, "USD") + Money(b, "USD") - Money(b, "USD")) == Money(a, "USD")


@given(st.lists(amounts, max_size=20))
def test_total_is_the_sum_of_its_parts(values: list[int]) -> None:
    assert total([Money(v, "USD") for v in values], "USD") == Money(sum(values), "USD")


@given(amounts)
def test_formatted_digits_are_the_amount(amount: int) -> None:
    text = Money(amount, "USD").formatted()
    digits = "".join(ch for ch in text if ch.isdigit())
    assert int(digits) == abs(amount)
    assert text.startswith("-") == (amount < 0)


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_rounding_in_integers_is_the_fraction_rule_mny_2(numerator: int, denominator: int) -> None:
    """MNY-2: half away from zero, computed on the fraction's numerator and denominator, agrees
    with the rule written on fractions."""
    from fractions import Fraction

    from billing.proration import round_half_away_from_zero

    value = Fraction(numerator, denominator)
    magnitude = abs(value)
    expected = int(magnitude) + (1 if magnitude - int(magnitude) >= Fraction(1, 2) else 0)
    assert round_half_away_from_zero(value) == (expected if value >= 0 else -expected)


@pytest.mark.parametrize(
    ("amount", "currency", "accepted"),
    [
        (1999, "EUR", True),
        (0, "USD", True),
        (19.99, "EUR", False),
        (True, "EUR", False),
        (1, "XXX", False),
    ],
)
def test_an_amount_is_an_int_of_minor_units_in_a_known_currency_rule_mny_1(
    amount: object, currency: str, accepted: bool
) -> None:
    from billing import money
    from schema.common import Money as MoneyObject

    assert money.accepted(amount, currency) is accepted
    if accepted:
        assert MoneyObject.of(amount, currency).amount == amount  # type: ignore[arg-type]
    else:
        with pytest.raises((TypeError, ValueError)):
            MoneyObject.of(amount, currency)  # type: ignore[arg-type]
