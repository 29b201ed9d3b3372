"""The billing clock's schedule (MNY-4): from the facts of one subscription and the time, what is
due now and when the next thing falls due. The clock dispatches on `due_now`; `next_due_at` is the
same list of candidates read for its earliest moment, so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from billing.dunning import GRACE_PERIOD, next_retry_at
from billing.periods import BillingInterval, usage_month
from billing.subscription_status import SubscriptionStatus
from billing.webhooks import TRIAL_ENDING_NOTICE

S = SubscriptionStatus

RENEWAL_NOTICE = timedelta(days=7)  # NOT-1: the upcoming-renewal notice, a week ahead
AUTO_DOWNGRADE_NOTICE = timedelta(hours=24)  # PREF-3

# A stored due time that means "due now: work the schedule out again" (a new row, or one whose
# facts changed outside the clock). Any moment in the past would do; this one reads as a marker.
RESCHEDULE = datetime(1970, 1, 1, tzinfo=UTC)

# Statuses whose period end is the clock's business (renewal, cancellation, DUN-3).
PERIOD_ENDS = frozenset({S.ACTIVE, S.DOWNGRADING, S.CANCELLING, S.FROZEN})
NOTICE_STATUSES = frozenset({S.ACTIVE, S.DOWNGRADING})


class Due(StrEnum):
    """The kinds of work the clock does, in the order it does them when several are due."""

    TRIAL_ENDING_NOTICE = "TRIAL_ENDING_NOTICE"  # EVT-1: three days before the trial ends
    TRIAL_END = "TRIAL_END"  # SUB-2
    PAYMENT_RETRY = "PAYMENT_RETRY"  # DUN-6: days 1, 3 and 5 of the grace period
    FREEZE = "FREEZE"  # DUN-3: the grace period passed unpaid
    AUTO_DOWNGRADE_CHECK = "AUTO_DOWNGRADE_CHECK"  # PREF-3
    RENEWAL_NOTICE = "RENEWAL_NOTICE"  # NOT-1
    USAGE_MONTH_CLOSE = "USAGE_MONTH_CLOSE"  # INV-4: a month inside a longer period ends
    PERIOD_END = "PERIOD_END"  # DUN-1, CHG-6, INT-1, CAN-1, DUN-3
    DATA_DELETION = "DATA_DELETION"  # CAN-3


@dataclass(frozen=True)
class SubscriptionFacts:
    """What the schedule reads of one subscription, in the organization's billing time."""

    status: SubscriptionStatus
    billing_interval: BillingInterval
    billing_anchor: datetime
    current_period_start: datetime
    current_period_end: datetime
    trial_ends_at: datetime | None = None
    trial_ending_notice_for: datetime | None = None
    usage_closed_until: datetime | None = None
    renewal_notice_for: datetime | None = None
    auto_downgrade_checked_for: datetime | None = None
    auto_downgrade_enabled: bool = False
    # The unpaid invoices the grace period counts from (DUN-2): (due date, retries made), oldest
    # first. A change waiting for 3-D Secure is not among them (CHG-5).
    unpaid: tuple[tuple[datetime, int], ...] = ()


@dataclass(frozen=True)
class OrganizationFacts:
    subscription: SubscriptionFacts | None
    data_delete_at: datetime | None = None
    data_deleted_at: datetime | None = None


@dataclass(frozen=True)
class Candidate:
    due: Due
    at: datetime
    # The work lapses at this moment if not done by then (a notice after the renewal is moot).
    until: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        return self.at <= now and (self.until is None or now < self.until)


def candidates(facts: OrganizationFacts) -> list[Candidate]:
    """Every piece of work that will fall due, in the order the clock does it."""
    found = _subscription_candidates(facts.subscription) if facts.subscription else []
    if facts.data_deleted_at is None and facts.data_delete_at is not None:
        found.append(Candidate(Due.DATA_DELETION, facts.data_delete_at))
    return found


def _subscription_candidates(sub: SubscriptionFacts) -> list[Candidate]:
    end = sub.current_period_end
    found: list[Candidate] = []
    if sub.status is S.TRIALING and sub.trial_ends_at is not None:
        if sub.trial_ending_notice_for != sub.trial_ends_at:
            notice_at = sub.trial_ends_at - TRIAL_ENDING_NOTICE
            found.append(Candidate(Due.TRIAL_ENDING_NOTICE, notice_at, until=sub.trial_ends_at))
        found.append(Candidate(Due.TRIAL_END, sub.trial_ends_at))
    if sub.status is S.PENDING_PAYMENT:
        # While a renewal is unpaid nothing else moves: the grace period ends before the period.
        retries = (next_retry_at(due_at, made) for due_at, made in sub.unpaid)
        found.extend(Candidate(Due.PAYMENT_RETRY, at) for at in sorted(filter(None, retries)))
        if sub.unpaid:
            found.append(Candidate(Due.FREEZE, sub.unpaid[0][0] + GRACE_PERIOD))
        return found
    if (
        sub.status is S.ACTIVE
        and sub.auto_downgrade_enabled
        and sub.auto_downgrade_checked_for != end
    ):
        found.append(Candidate(Due.AUTO_DOWNGRADE_CHECK, end - AUTO_DOWNGRADE_NOTICE))
    if sub.status in NOTICE_STATUSES and sub.renewal_notice_for != end:
        found.append(Candidate(Due.RENEWAL_NOTICE, end - RENEWAL_NOTICE, until=end))
    if sub.status in PERIOD_ENDS:
        _, month_end = usage_month(
            sub.billing_anchor,
            sub.billing_interval,
            sub.current_period_start,
            end,
            sub.usage_closed_until,
        )
        if month_end < end:
            found.append(Candidate(Due.USAGE_MONTH_CLOSE, month_end))
        found.append(Candidate(Due.PERIOD_END, end))
    return found


def due_now(facts: OrganizationFacts, now: datetime) -> Due | None:
    """The first piece of work due at `now`, or None when nothing is."""
    return next((c.due for c in candidates(facts) if c.is_due(now)), None)


def next_due_at(facts: OrganizationFacts) -> datetime | None:
    """The earliest moment at which work falls due (it may already have passed)."""
    return min((c.at for c in candidates(facts)), default=None)


def stored_due_at(facts: OrganizationFacts, offset_seconds: int) -> datetime | None:
    """`next_due_at` in the gateway's own time, for an organization whose billing time runs
    `offset_seconds` ahead (a sandbox test clock): what workers compare with their clock."""
    due = next_due_at(facts)
    return None if due is None else due - timedelta(seconds=offset_seconds)
