"""rule SUB-3: only the transitions of the table; everything else refused."""

from __future__ import annotations

import itertools

import pytest

from billing.subscription_status import (
    TRANSITIONS,
    Event,
    SubscriptionStatus,
    TransitionError,
    transition,
)

S, E = SubscriptionStatus, Event


@pytest.mark.parametrize(
    ("status", "event", "to"),
    [
        (S.TRIALING, E.TRIAL_ENDS, S.TRIAL_ENDED),
        (S.TRIAL_ENDED, E.SUBSCRIBE, S.ACTIVE),
        (S.ACTIVE, E.SCHEDULE_DOWNGRADE, S.DOWNGRADING),
        (S.DOWNGRADING, E.PERIOD_ENDS_RENEWED, S.ACTIVE),
        (S.DOWNGRADING, E.CANCEL, S.CANCELLING),
        (S.CANCELLING, E.REACTIVATE, S.ACTIVE),
        (S.CANCELLING, E.PERIOD_ENDS_CANCELLED, S.CANCELLED),
        (S.CANCELLING, E.PERIOD_ENDS_OVERDUE, S.FROZEN),
        (S.PENDING_PAYMENT, E.OVERDUE_PAID_WITH_DOWNGRADE_SCHEDULED, S.DOWNGRADING),
        (S.PENDING_PAYMENT, E.GRACE_PERIOD_PASSES, S.FROZEN),
        (S.FROZEN, E.PERIOD_ENDS_OVERDUE, S.CANCELLED),
        (S.CANCELLED, E.SUBSCRIBE, S.ACTIVE),  # a new subscription at current prices
        (S.DOWNGRADING, E.SCHEDULE_DOWNGRADE, S.DOWNGRADING),  # CHG-6: another product line
        (S.DOWNGRADING, E.SCHEDULED_DOWNGRADES_REPLACED, S.ACTIVE),  # CHG-6: none left
    ],
)
def test_rows_of_the_table(
    status: SubscriptionStatus, event: Event, to: SubscriptionStatus
) -> None:
    assert transition(status, event) is to


def test_no_transition_outside_the_table() -> None:
    refused = 0
    for status, event in itertools.product(S, E):
        if (status, event) in TRANSITIONS:
            continue
        with pytest.raises(TransitionError):
            transition(status, event)
        refused += 1
    assert refused == len(S) * len(E) - len(TRANSITIONS)
    # CANCELLED is left only by subscribing again (a new subscription).
    assert [e for s, e in TRANSITIONS if s is S.CANCELLED] == [E.SUBSCRIBE]
