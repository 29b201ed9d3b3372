"""The billing clock's schedule, table-driven: for each status of SUB-1, each DUN step and each
notice window, what is due at a moment and when the next thing falls due (rules MNY-4, SUB-2,
SUB-3, DUN-1, DUN-2, DUN-3, NOT-1, PREF-3, INV-4, CAN-1, CAN-3)."""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing.dunning import GRACE_PERIOD
from billing.periods import BillingInterval
from billing.schedule import (
    AUTO_DOWNGRADE_NOTICE,
    RENEWAL_NOTICE,
    Due,
    OrganizationFacts,
    SubscriptionFacts,
    due_now,
    next_due_at,
    stored_due_at,
)
from billing.subscription_status import SubscriptionStatus
from billing.webhooks import TRIAL_ENDING_NOTICE

S = SubscriptionStatus
START = datetime(2026, 3, 2, tzinfo=UTC)
END = datetime(2026, 4, 2, tzinfo=UTC)
ANNUAL_END = datetime(2027, 3, 2, tzinfo=UTC)
FIRST_MONTH_END = datetime(2026, 4, 2, tzinfo=UTC)
TRIAL_END = datetime(2026, 3, 16, tzinfo=UTC)
OVERDUE = datetime(2026, 3, 10, tzinfo=UTC)
DELETE_AT = datetime(2026, 7, 1, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)

MONTHLY = SubscriptionFacts(
    status=S.ACTIVE,
    billing_interval=BillingInterval.MONTHLY,
    billing_anchor=START,
    current_period_start=START,
    current_period_end=END,
)
ANNUAL = replace(MONTHLY, billing_interval=BillingInterval.ANNUAL, current_period_end=ANNUAL_END)
NOTICE_SENT = {"renewal_notice_for": END}


def facts(base: SubscriptionFacts = MONTHLY, /, **changes: Any) -> OrganizationFacts:
    return OrganizationFacts(subscription=replace(base, **changes))


# (rule, case, facts, now, due now, next due)
# fmt: off
ROWS: list[tuple[str, str, OrganizationFacts, datetime, Due | None, datetime | None]] = [
    # SUB-2: a trial ends at its end date, and nothing else is due while trialing but (EVT-1)
    # the trial-ending event three days before, which lapses at the end if never recorded.
    ("EVT-1", "trial before the ending notice", facts(status=S.TRIALING, trial_ends_at=TRIAL_END),
     TRIAL_END - TRIAL_ENDING_NOTICE - H, None, TRIAL_END - TRIAL_ENDING_NOTICE),
    ("EVT-1", "trial, the ending notice is due", facts(status=S.TRIALING, trial_ends_at=TRIAL_END),
     TRIAL_END - H, Due.TRIAL_ENDING_NOTICE, TRIAL_END - TRIAL_ENDING_NOTICE),
    ("SUB-2", "trial before its end", facts(status=S.TRIALING, trial_ends_at=TRIAL_END,
     trial_ending_notice_for=TRIAL_END), TRIAL_END - H, None, TRIAL_END),
    ("SUB-2", "trial at its end", facts(status=S.TRIALING, trial_ends_at=TRIAL_END,
     trial_ending_notice_for=TRIAL_END), TRIAL_END, Due.TRIAL_END, TRIAL_END),
    ("SUB-2", "trial long past its end, notice lapsed", facts(status=S.TRIALING,
     trial_ends_at=TRIAL_END), END + H, Due.TRIAL_END, TRIAL_END - TRIAL_ENDING_NOTICE),
    ("SUB-3", "an ended trial waits for the customer", facts(status=S.TRIAL_ENDED),
     END + H, None, None),
    # DUN-1, NOT-1: an active period, its renewal notice a week ahead, then the renewal.
    ("NOT-1", "active, before the notice window", facts(),
     END - RENEWAL_NOTICE - H, None, END - RENEWAL_NOTICE),
    ("NOT-1", "active, the notice window opens", facts(),
     END - RENEWAL_NOTICE, Due.RENEWAL_NOTICE, END - RENEWAL_NOTICE),
    ("NOT-1", "active, notice sent: only the renewal is ahead", facts(**NOTICE_SENT),
     END - H, None, END),
    ("NOT-1", "a notice not sent by the period end lapses: the renewal goes first", facts(),
     END, Due.PERIOD_END, END - RENEWAL_NOTICE),
    ("DUN-1", "active, the period ends", facts(**NOTICE_SENT), END, Due.PERIOD_END, END),
    ("CHG-6", "downgrading, the notice", facts(status=S.DOWNGRADING),
     END - RENEWAL_NOTICE, Due.RENEWAL_NOTICE, END - RENEWAL_NOTICE),
    ("CHG-6", "downgrading, the period ends", facts(status=S.DOWNGRADING, **NOTICE_SENT),
     END, Due.PERIOD_END, END),
    # PREF-3: the auto-downgrade check 24 hours before the end, once per period.
    ("PREF-3", "auto-downgrade on, before its check",
     facts(auto_downgrade_enabled=True, **NOTICE_SENT),
     END - AUTO_DOWNGRADE_NOTICE - H, None, END - AUTO_DOWNGRADE_NOTICE),
    ("PREF-3", "auto-downgrade on, 24 hours before the end",
     facts(auto_downgrade_enabled=True, **NOTICE_SENT),
     END - AUTO_DOWNGRADE_NOTICE, Due.AUTO_DOWNGRADE_CHECK, END - AUTO_DOWNGRADE_NOTICE),
    ("PREF-3", "the check goes before the notice when both are due",
     facts(auto_downgrade_enabled=True), END - H, Due.AUTO_DOWNGRADE_CHECK, END - RENEWAL_NOTICE),
    ("PREF-3", "auto-downgrade checked for this period",
     facts(auto_downgrade_enabled=True, auto_downgrade_checked_for=END, **NOTICE_SENT),
     END - H, None, END),
    ("PREF-3", "only an active subscription is checked",
     facts(status=S.DOWNGRADING, auto_downgrade_enabled=True, **NOTICE_SENT),
     END - H, None, END),
    # CAN-1: a cancelling subscription gets no renewal notice and ends at the period end.
    ("CAN-1", "cancelling, before the end", facts(status=S.CANCELLING), END - H, None, END),
    ("CAN-1", "cancelling, the period ends", facts(status=S.CANCELLING),
     END, Due.PERIOD_END, END),
    # DUN-6: retries on days 1, 3 and 5, the last one before the grace period's end on day 5.
    ("DUN-6", "pending payment, before the first retry",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 0),)), OVERDUE + H, None, OVERDUE + DAY),
    ("DUN-6", "pending payment, day 1: the first retry",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 0),)),
     OVERDUE + DAY, Due.PAYMENT_RETRY, OVERDUE + DAY),
    ("DUN-6", "first retry made: the next one on day 3",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 1),)),
     OVERDUE + 2 * DAY, None, OVERDUE + 3 * DAY),
    ("DUN-6", "day 5: the last retry goes before the freeze",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 2),)),
     OVERDUE + GRACE_PERIOD, Due.PAYMENT_RETRY, OVERDUE + 5 * DAY),
    ("DUN-6", "two unpaid invoices: the later one's retries are scheduled too",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 3), (OVERDUE + 2 * DAY, 0))),
     OVERDUE + 3 * DAY, Due.PAYMENT_RETRY, OVERDUE + 3 * DAY),
    # DUN-2, DUN-3: pending payment freezes after the grace period, and nothing else moves.
    ("DUN-2", "pending payment, retries done, inside the grace period",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 3),)),
     OVERDUE + GRACE_PERIOD - H, None, OVERDUE + GRACE_PERIOD),
    ("DUN-3", "pending payment, the grace period passes",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 3),)),
     OVERDUE + GRACE_PERIOD, Due.FREEZE, OVERDUE + GRACE_PERIOD),
    ("DUN-2", "pending payment: no notice and no renewal while unpaid",
     facts(status=S.PENDING_PAYMENT, unpaid=((OVERDUE, 3),)),
     END + H, Due.FREEZE, OVERDUE + GRACE_PERIOD),
    ("DUN-4", "pending payment with nothing unpaid left waits for the payment to settle",
     facts(status=S.PENDING_PAYMENT), END + H, None, None),
    ("DUN-3", "frozen, before the period end", facts(status=S.FROZEN), END - H, None, END),
    ("DUN-3", "frozen, the period ends unpaid", facts(status=S.FROZEN),
     END, Due.PERIOD_END, END),
    ("SUB-3", "cancelled: nothing is due", facts(status=S.CANCELLED), END + H, None, None),
    # INV-4: a billing month inside a longer period closes before the period ends.
    ("INV-4", "annual, before its first month ends", facts(ANNUAL, renewal_notice_for=ANNUAL_END),
     FIRST_MONTH_END - H, None, FIRST_MONTH_END),
    ("INV-4", "annual, the first month ends", facts(ANNUAL, renewal_notice_for=ANNUAL_END),
     FIRST_MONTH_END, Due.USAGE_MONTH_CLOSE, FIRST_MONTH_END),
    ("INV-4", "annual, the first month closed: the second is next",
     facts(ANNUAL, renewal_notice_for=ANNUAL_END, usage_closed_until=FIRST_MONTH_END),
     FIRST_MONTH_END, None, datetime(2026, 5, 2, tzinfo=UTC)),
    ("INV-4", "annual, the last month is closed by the period end itself",
     facts(ANNUAL, renewal_notice_for=ANNUAL_END,
           usage_closed_until=datetime(2027, 2, 2, tzinfo=UTC)),
     ANNUAL_END, Due.PERIOD_END, ANNUAL_END),
    ("INV-4", "frozen annual still closes its months", facts(ANNUAL, status=S.FROZEN),
     FIRST_MONTH_END, Due.USAGE_MONTH_CLOSE, FIRST_MONTH_END),
]
# fmt: on


@pytest.mark.parametrize(
    ("rule", "case", "given", "now", "due", "next_at"),
    ROWS,
    ids=[f"{row[0]}: {row[1]}" for row in ROWS],
)
def test_the_schedule(
    rule: str,
    case: str,
    given: OrganizationFacts,
    now: datetime,
    due: Due | None,
    next_at: datetime | None,
) -> None:
    assert due_now(given, now) is due
    assert next_due_at(given) == next_at


def test_data_deletion_after_retention_rule_can_3() -> None:
    cancelled = facts(status=S.CANCELLED)
    waiting = replace(cancelled, data_delete_at=DELETE_AT)
    assert next_due_at(waiting) == DELETE_AT
    assert due_now(waiting, DELETE_AT - H) is None
    assert due_now(waiting, DELETE_AT) is Due.DATA_DELETION
    done = replace(waiting, data_deleted_at=DELETE_AT)
    assert due_now(done, DELETE_AT + H) is None
    assert next_due_at(done) is None
    # With no subscription left at all, the deletion is still scheduled.
    assert (
        due_now(OrganizationFacts(None, data_delete_at=DELETE_AT), DELETE_AT) is Due.DATA_DELETION
    )


def test_whatever_is_due_is_never_later_than_next_due_at_rule_mny_4() -> None:
    """The clock steps a test clock to next_due_at: whatever is due then must be due no earlier."""
    for _, _, given, now, due, _ in ROWS:
        earliest = next_due_at(given)
        if due is not None:
            assert earliest is not None and earliest <= now


# (rule, case, next due in billing time, test-clock offset in seconds, stored due time)
STORED: list[tuple[str, str, OrganizationFacts, int, datetime | None]] = [
    ("MNY-4", "no test clock: the schedule's own time", facts(**NOTICE_SENT), 0, END),
    ("MNY-4", "a test clock a day ahead: due a day earlier on the gateway's clock",
     facts(**NOTICE_SENT), 86_400, END - DAY),
    ("SUB-3", "nothing will fall due: nothing stored", facts(status=S.CANCELLED), 86_400, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "case", "given", "offset_seconds", "stored"),
    STORED,
    ids=[f"{row[0]}: {row[1]}" for row in STORED],
)
def test_the_stored_due_time(
    rule: str, case: str, given: OrganizationFacts, offset_seconds: int, stored: datetime | None
) -> None:
    assert stored_due_at(given, offset_seconds) == stored


def test_the_back_fill_is_never_later_than_the_schedule_rule_mny_4() -> None:
    """Migration 0025 back-fills existing rows without the schedule's code: its time must never
    be later than the schedule's (a row visited early is stored exactly; one visited late would
    miss its work)."""
    migration = importlib.import_module("models.migrations.0025_next_due_at")
    for _, case, given, _, _, _ in ROWS:
        sub = given.subscription
        assert sub is not None
        row = {
            "status": sub.status.value,
            "billing_interval": sub.billing_interval.value,
            "current_period_start": sub.current_period_start,
            "current_period_end": sub.current_period_end,
            "trial_ends_at": sub.trial_ends_at,
            "usage_closed_until": sub.usage_closed_until,
            "data_delete_at": given.data_delete_at,
            "data_deleted_at": given.data_deleted_at,
        }
        exact, filled = next_due_at(given), migration.earliest_due(row)
        if exact is None:
            assert filled is None or sub.status is S.PENDING_PAYMENT, case
        else:
            assert filled is not None and filled <= exact, case
