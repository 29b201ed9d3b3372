"""rules CAN-1, CAN-2, CAN-3."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.cancellation import cancellation_date, deletion_date
from billing.periods import BillingInterval
from billing.policies import CancellationNotice

END = CancellationNotice.END_OF_PERIOD
MONTH_PLUS = CancellationNotice.MONTH_PLUS_REMAINDER


def d(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("notice", "interval", "period_end", "now", "expected"),
    [
        (END, BillingInterval.MONTHLY, d(4, 2), d(3, 12), d(4, 2)),  # CAN-1
        # CAN-2, monthly from the 2nd: the rest of the month plus one month.
        (MONTH_PLUS, BillingInterval.MONTHLY, d(4, 2), d(3, 12), d(5, 2)),
        (MONTH_PLUS, BillingInterval.MONTHLY, d(4, 2), d(3, 2), d(5, 2)),
        # Quarterly renewing 2 Jul: asked by 1 Jun avoids it, asked on 2 Jun does not.
        (MONTH_PLUS, BillingInterval.QUARTERLY, d(7, 2), d(6, 1), d(7, 2)),
        (MONTH_PLUS, BillingInterval.QUARTERLY, d(7, 2), d(6, 2), d(10, 2)),
    ],
)
def test_cancellation_date(
    notice: CancellationNotice,
    interval: BillingInterval,
    period_end: datetime,
    now: datetime,
    expected: datetime,
) -> None:
    assert cancellation_date(notice, interval, period_end, now) == expected


def test_data_is_deleted_after_the_retention_period() -> None:
    assert deletion_date(d(4, 2), 90) == d(7, 1)
    assert deletion_date(d(4, 2), 14) == d(4, 16)
