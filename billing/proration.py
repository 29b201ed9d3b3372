"""Proration (rule MNY-2): exact fractions of a period in seconds, rounded once per invoice line,
half away from zero, to the minor unit."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction


def round_half_away_from_zero(value: Fraction) -> int:
    """The one rounding rule of the gateway (MNY-2). In integers: a fraction's denominator is
    positive, and whole and remainder of |numerator| / denominator are exact."""
    whole, remainder = divmod(abs(value.numerator), value.denominator)
    if 2 * remainder >= value.denominator:
        whole += 1
    return whole if value.numerator >= 0 else -whole


def remaining_fraction(period_start: datetime, period_end: datetime, at: datetime) -> Fraction:
    """The part of [period_start, period_end) still ahead at `at`, in whole seconds, from 0 to 1."""
    length = int((period_end - period_start).total_seconds())
    if length <= 0:
        raise ValueError("a billing period must have a positive length")
    remaining = int((period_end - at).total_seconds())
    return Fraction(min(max(remaining, 0), length), length)


def prorate(amount: int, fraction: Fraction) -> int:
    return round_half_away_from_zero(amount * fraction)
