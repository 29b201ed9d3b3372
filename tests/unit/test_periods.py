"""rule MNY-3: periods end on the anchor's day-of-month, clamped to shorter months, and return to
the anchor day afterwards."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import BillingInterval, period_bounds, period_containing, shift_months


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        (at(2026, 1, 31), 1, at(2026, 2, 28)),
        (at(2028, 1, 31), 1, at(2028, 2, 29)),  # leap year
        (at(2026, 1, 31), 2, at(2026, 3, 31)),  # back to the anchor day
        (at(2026, 3, 31), 1, at(2026, 4, 30)),
        (at(2026, 8, 31), 3, at(2026, 11, 30)),
        (at(2026, 11, 15), 3, at(2027, 2, 15)),
        (at(2028, 2, 29), 12, at(2029, 2, 28)),
        (at(2026, 12, 10), 1, at(2027, 1, 10)),
        (at(2026, 5, 10), 0, at(2026, 5, 10)),
    ],
)
def test_shift_months(anchor: datetime, months: int, expected: datetime) -> None:
    assert shift_months(anchor, months) == expected


@pytest.mark.parametrize(
    ("interval", "second_period"),
    [
        (BillingInterval.MONTHLY, (at(2026, 2, 28), at(2026, 3, 31))),
        (BillingInterval.QUARTERLY, (at(2026, 4, 30), at(2026, 7, 31))),
        (BillingInterval.SEMIANNUAL, (at(2026, 7, 31), at(2027, 1, 31))),
        (BillingInterval.ANNUAL, (at(2027, 1, 31), at(2028, 1, 31))),
    ],
)
def test_period_bounds_for_each_interval(
    interval: BillingInterval, second_period: tuple[datetime, datetime]
) -> None:
    assert period_bounds(at(2026, 1, 31), interval, 1) == second_period


anchors = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@given(anchors, st.sampled_from(list(BillingInterval)), st.integers(min_value=0, max_value=2000))
def test_the_period_containing_a_moment_contains_it(
    anchor: datetime, interval: BillingInterval, days_later: int
) -> None:
    moment = anchor + timedelta(days=days_later, seconds=17)
    start, end = period_containing(anchor, interval, moment)
    assert start <= moment < end
    for boundary in (start, end):
        # On the anchor day, or the month's last day when the month is shorter (MNY-3).
        assert boundary.day == min(
            anchor.day, calendar.monthrange(boundary.year, boundary.month)[1]
        )
        assert boundary.time() == anchor.time()


@given(anchors, st.sampled_from(list(BillingInterval)), st.integers(min_value=0, max_value=40))
def test_periods_tile_time_without_gaps(
    anchor: datetime, interval: BillingInterval, index: int
) -> None:
    _, end = period_bounds(anchor, interval, index)
    next_start, _ = period_bounds(anchor, interval, index + 1)
    assert end == next_start


def test_a_moment_before_the_anchor_has_no_period() -> None:
    with pytest.raises(ValueError):
        period_containing(at(2026, 5, 1), BillingInterval.MONTHLY, at(2026, 4, 30))
