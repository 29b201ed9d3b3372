"""When a cancellation takes effect (rules CAN-1, CAN-2) and when the data goes (CAN-3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from billing.periods import BillingInterval, shift_months
from billing.policies import CancellationNotice


def cancellation_date(
    notice: CancellationNotice, interval: BillingInterval, period_end: datetime, now: datetime
) -> datetime:
    if notice is CancellationNotice.END_OF_PERIOD:
        return period_end  # CAN-1
    # CAN-2: the rest of the current month plus one month; a request later than one month and one
    # day before a renewal does not avoid that renewal.
    deadline = shift_months(period_end, -1) - timedelta(days=1)
    if now <= deadline:
        return period_end
    return shift_months(period_end, interval.months)


def latest_cancellation_date(dates: list[datetime]) -> datetime:
    """With several products, the subscription ends when the longest notice does."""
    return max(dates)


def deletion_date(cancelled_at: datetime, retention_days: int) -> datetime:
    return cancelled_at + timedelta(days=retention_days)
