"""Billing intervals and period boundaries (rule MNY-3)."""

from __future__ import annotations

import calendar
from datetime import datetime
from enum import StrEnum

from billing.errors import BillingError


class BillingInterval(StrEnum):
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    SEMIANNUAL = "SEMIANNUAL"
    ANNUAL = "ANNUAL"

    @property
    def months(self) -> int:
        return _MONTHS[self]


_MONTHS = {
    BillingInterval.MONTHLY: 1,
    BillingInterval.QUARTERLY: 3,
    BillingInterval.SEMIANNUAL: 6,
    BillingInterval.ANNUAL: 12,
}


def shift_months(anchor: datetime, months: int) -> datetime:
    """The anchor moved by whole months, on the anchor's day or the month's last day if shorter.

    Always computed from the anchor, never from a previous clamped boundary, so that a period
    anchored on the 31st ends on 28/29 Feb and the next one returns to 31 Mar (MNY-3).
    """
    month_index = anchor.month - 1 + months
    year = anchor.year + month_index // 12
    month = month_index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def period_bounds(
    anchor: datetime, interval: BillingInterval, index: int
) -> tuple[datetime, datetime]:
    """Start and end of the index-th period (0 = the one starting at the anchor)."""
    return (
        shift_months(anchor, index * interval.months),
        shift_months(anchor, (index + 1) * interval.months),
    )


def period_containing(
    anchor: datetime, interval: BillingInterval, at: datetime
) -> tuple[datetime, datetime]:
    """The period [start, end) containing `at`, which may not precede the anchor."""
    if at < anchor:
        raise ValueError("a period cannot contain a moment before its anchor")
    months_between = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    index = max(0, months_between // interval.months)
    start, end = period_bounds(anchor, interval, index)
    while start > at:
        index -= 1
        start, end = period_bounds(anchor, interval, index)
    while end <= at:
        index += 1
        start, end = period_bounds(anchor, interval, index)
    return start, end


def usage_month(
    anchor: datetime,
    interval: BillingInterval,
    period_start: datetime,
    period_end: datetime,
    closed_until: datetime | None,
) -> tuple[datetime, datetime]:
    """USE-2, INV-4: the open billing month of a period. Usage is counted and invoiced per month
    even when the period is longer; months step from the anchor (MNY-3) and are cut to the period.
    Months ending at or before `closed_until` have had their usage invoice. A monthly period is
    one billing month, however long."""
    if interval is BillingInterval.MONTHLY:
        return period_start, period_end
    start = period_start

    if closed_until is not None and period_start < closed_until < period_end:
        start = closed_until
    return start, min(next_month_boundary(anchor, start), period_end)


def next_month_boundary(anchor: datetime, at: datetime) -> datetime:
    """The first boundary a whole number of months from the anchor (either way) after `at`."""
    months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    while shift_months(anchor, months) <= at:
        months += 1
    while shift_months(anchor, months - 1) > at:
        months -= 1
    return shift_months(anchor, months)


def parse_month(text: str) -> tuple[int, int]:
    """USE-3: a calendar month written YYYY-MM ("2026-03"); anything else is refused."""
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 or not text.isascii():
        raise BillingError(_MONTH_FORMAT.format(text=text), field="month")
    if not (parts[0].isdigit() and parts[1].isdigit()) or int(parts[0]) < 1:
        raise BillingError(_MONTH_FORMAT.format(text=text), field="month")
    if not 1 <= int(parts[1]) <= 12:
        raise BillingError(_MONTH_FORMAT.format(text=text), field="month")
    if int(parts[0]) > LAST_YEAR:  # its billing month must end in a year dates can hold
        raise BillingError(f"Choose a month in the year {LAST_YEAR} or earlier.", field="month")
    return int(parts[0]), int(parts[1])


LAST_YEAR = 9998


_MONTH_FORMAT = (
    "A month is written YYYY-MM with a month from 01 to 12 (e.g. 2026-03), not {text!r}."
)


def billing_month_starting_in(anchor: datetime, year: int, month: int) -> datetime:
    """USE-3: the start of the billing month that begins in a calendar month: billing months step
    from the anchor (MNY-3), so exactly one starts in every calendar month."""
    return shift_months(anchor, (year - anchor.year) * 12 + (month - anchor.month))


def month_of(period_start: datetime) -> str:
    """USE-3: the calendar month a billing month starts in, as parse_month reads it back."""
    return f"{period_start.year:04d}-{period_start.month:02d}"
