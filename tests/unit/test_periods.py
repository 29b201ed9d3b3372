"""rule MNY-3: periods end on the anchor's day-of-month, clamped to shorter months, and return to
the anchor day afterwards."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.errors import BillingError
from billing.periods import (
    BillingInterval,
    billing_month_starting_in,
    parse_month,
    period_bounds,
    period_containing,
    shift_months,
    usage_month,
)


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


def _months_of(
    anchor: datetime,
    start: datetime,
    end: datetime,
    interval: BillingInterval = BillingInterval.ANNUAL,
) -> list[tuple[datetime, datetime]]:
    """The billing months of a period, closing each one as the billing clock does."""
    months: list[tuple[datetime, datetime]] = []
    closed: datetime | None = None
    while True:
        month = usage_month(anchor, interval, start, end, closed)
        months.append(month)
        if month[1] == end:
            return months
        closed = month[1]


def test_annual_usage_is_counted_in_billing_months() -> None:
    # USE-2, INV-4: an annual period anchored on 31 Jan has twelve billing months, 31 Jan to
    # 28 Feb, 28 Feb to 31 Mar, ... each with its own usage invoice.
    start, end = period_bounds(at(2026, 1, 31), BillingInterval.ANNUAL, 0)
    months = _months_of(at(2026, 1, 31), start, end)
    assert len(months) == 12
    assert months[:3] == [
        (at(2026, 1, 31), at(2026, 2, 28)),
        (at(2026, 2, 28), at(2026, 3, 31)),
        (at(2026, 3, 31), at(2026, 4, 30)),
    ]
    assert months[-1] == (at(2026, 12, 31), at(2027, 1, 31))


def test_a_monthly_period_is_one_billing_month() -> None:
    # USE-2: on monthly plans the billing month is the period.
    monthly = BillingInterval.MONTHLY
    start, end = at(2026, 1, 31), at(2026, 2, 28)
    assert usage_month(at(2026, 1, 31), monthly, start, end, None) == (start, end)
    assert usage_month(at(2026, 1, 31), monthly, start, end, at(2025, 12, 31)) == (start, end)
    # even one that is off the anchor's months
    assert usage_month(at(2026, 3, 12), monthly, at(2026, 2, 9), end, None) == (at(2026, 2, 9), end)


def test_billing_months_count_from_an_anchor_after_the_period_start() -> None:
    # MNY-3 either way: the anchor may be the period's end (a renewal counts months from it).
    months = _months_of(at(2027, 3, 2), at(2026, 3, 2), at(2027, 3, 2))
    assert months[0] == (at(2026, 3, 2), at(2026, 4, 2))
    assert len(months) == 12


def test_a_period_cut_short_ends_its_last_billing_month() -> None:
    # CHG-4 or INT-1 may leave a period that does not end on a month boundary.
    annual = BillingInterval.ANNUAL
    assert usage_month(at(2026, 1, 10), annual, at(2026, 1, 10), at(2026, 1, 25), None) == (
        at(2026, 1, 10),
        at(2026, 1, 25),
    )


@given(anchors, st.sampled_from(list(BillingInterval)), st.integers(min_value=-3, max_value=3))
def test_billing_months_tile_the_period(
    anchor: datetime, interval: BillingInterval, index: int
) -> None:
    # INV-4: every moment of the period is in exactly one billing month, and there are as many
    # months as the interval has.
    start, end = period_bounds(anchor, interval, index)
    months = _months_of(anchor, start, end, interval)
    assert months[0][0] == start and months[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(months))
    assert len(months) == interval.months


@pytest.mark.parametrize(
    ("text", "month"), [("2026-03", (2026, 3)), ("2020-01", (2020, 1)), ("1999-12", (1999, 12))]
)
def test_parse_month_rule_use_3(text: str, month: tuple[int, int]) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "March",
        "0000-01",
        "2026-3",
        "2026-03-01",
        "",
        "\uff12\uff10\uff12\uff16-03",
    ],
)
def test_parse_month_refuses_anything_else_rule_use_3(text: str) -> None:
    with pytest.raises(BillingError, match="A month is written YYYY-MM"):
        parse_month(text)


@pytest.mark.parametrize(
    ("anchor", "year", "month", "start"),
    [
        (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), 2020, 1, datetime(2020, 1, 2, 9, 30, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 2026, 2, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 2026, 3, datetime(2026, 3, 31, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 2028, 2, datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_billing_month_starting_in_rule_use_3(
    anchor: datetime, year: int, month: int, start: datetime
) -> None:
    assert billing_month_starting_in(anchor, year, month) == start


@pytest.mark.parametrize("text", ["9999-12", "9999-01"])
def test_a_month_too_far_off_is_refused_rule_use_3(text: str) -> None:
    # The review found "9999-12" answered INTERNAL: its billing month would end in year 10000.
    with pytest.raises(BillingError, match="9998 or earlier"):
        parse_month(text)
    assert parse_month("9998-12") == (9998, 12)
