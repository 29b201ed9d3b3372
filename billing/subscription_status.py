"""Subscription statuses (SUB-1) and the only transitions between them (SUB-3)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from billing.errors import BillingError


class SubscriptionStatus(StrEnum):
    TRIALING = "TRIALING"
    TRIAL_ENDED = "TRIAL_ENDED"
    ACTIVE = "ACTIVE"
    DOWNGRADING = "DOWNGRADING"
    CANCELLING = "CANCELLING"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    FROZEN = "FROZEN"
    CANCELLED = "CANCELLED"


class Event(StrEnum):
    TRIAL_ENDS = "TRIAL_ENDS"
    SUBSCRIBE = "SUBSCRIBE"
    SCHEDULE_DOWNGRADE = "SCHEDULE_DOWNGRADE"
    PERIOD_ENDS_RENEWED = "PERIOD_ENDS_RENEWED"
    CANCEL = "CANCEL"
    REACTIVATE = "REACTIVATE"
    PERIOD_ENDS_CANCELLED = "PERIOD_ENDS_CANCELLED"
    PERIOD_ENDS_OVERDUE = "PERIOD_ENDS_OVERDUE"
    PAYMENT_OVERDUE = "PAYMENT_OVERDUE"
    OVERDUE_PAID = "OVERDUE_PAID"
    OVERDUE_PAID_WITH_DOWNGRADE_SCHEDULED = "OVERDUE_PAID_WITH_DOWNGRADE_SCHEDULED"
    GRACE_PERIOD_PASSES = "GRACE_PERIOD_PASSES"
    SCHEDULED_DOWNGRADES_REPLACED = "SCHEDULED_DOWNGRADES_REPLACED"


S, E = SubscriptionStatus, Event

# SUB-3, row by row.
TRANSITIONS: dict[tuple[SubscriptionStatus, Event], SubscriptionStatus] = {
    (S.TRIALING, E.TRIAL_ENDS): S.TRIAL_ENDED,
    (S.TRIALING, E.SUBSCRIBE): S.ACTIVE,
    (S.TRIAL_ENDED, E.SUBSCRIBE): S.ACTIVE,
    (S.ACTIVE, E.SCHEDULE_DOWNGRADE): S.DOWNGRADING,
    (S.DOWNGRADING, E.PERIOD_ENDS_RENEWED): S.ACTIVE,
    (S.ACTIVE, E.CANCEL): S.CANCELLING,
    (S.DOWNGRADING, E.CANCEL): S.CANCELLING,
    (S.CANCELLING, E.REACTIVATE): S.ACTIVE,
    (S.CANCELLING, E.PERIOD_ENDS_CANCELLED): S.CANCELLED,
    (S.CANCELLING, E.PERIOD_ENDS_OVERDUE): S.FROZEN,
    (S.ACTIVE, E.PAYMENT_OVERDUE): S.PENDING_PAYMENT,
    (S.DOWNGRADING, E.PAYMENT_OVERDUE): S.PENDING_PAYMENT,
    (S.PENDING_PAYMENT, E.OVERDUE_PAID): S.ACTIVE,
    (S.PENDING_PAYMENT, E.OVERDUE_PAID_WITH_DOWNGRADE_SCHEDULED): S.DOWNGRADING,
    (S.PENDING_PAYMENT, E.GRACE_PERIOD_PASSES): S.FROZEN,
    (S.FROZEN, E.OVERDUE_PAID): S.ACTIVE,
    (S.FROZEN, E.PERIOD_ENDS_OVERDUE): S.CANCELLED,
    (S.CANCELLED, E.SUBSCRIBE): S.ACTIVE,
    # CHG-6: DOWNGRADING while any product line has a downgrade scheduled; another line may
    # schedule one too, and upgrading the last such line replaces its downgrade.
    (S.DOWNGRADING, E.SCHEDULE_DOWNGRADE): S.DOWNGRADING,
    (S.DOWNGRADING, E.SCHEDULED_DOWNGRADES_REPLACED): S.ACTIVE,
}


class TransitionError(BillingError):
    def __init__(
        self, status: SubscriptionStatus, event: Event, cancel_at: datetime | None = None
    ) -> None:
        super().__init__(_refusal(status, event, cancel_at))
        self.status = status
        self.event = event


def _refusal(status: SubscriptionStatus, event: Event, cancel_at: datetime | None) -> str:
    if (status, event) == (S.CANCELLING, Event.CANCEL):
        on = f" (on {cancel_at:%Y-%m-%d})" if cancel_at else ""
        return f"The subscription is already being cancelled{on}: reactivate it to keep it."
    return _REFUSALS.get(event, f"A {status.value} subscription cannot do that ({event.value}).")


_REFUSALS = {
    Event.CANCEL: "Only an active subscription can be cancelled.",
    Event.REACTIVATE: "Only a subscription that is being cancelled can be reactivated.",
    Event.SUBSCRIBE: (
        "Subscribing starts a paid plan after a trial or a cancellation; this organization "
        "already has a paid subscription."
    ),
}


def transition(
    status: SubscriptionStatus, event: Event, *, cancel_at: datetime | None = None
) -> SubscriptionStatus:
    """The next status; `cancel_at` only words the refusal of a second cancellation."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionError(status, event, cancel_at) from None


# Statuses that renew at the end of the current period (DUN-1). A trial charges nothing until
# the customer subscribes (SUB-2); a cancelling subscription ends instead of renewing (CAN-1).
RENEWING = frozenset({S.ACTIVE, S.DOWNGRADING, S.PENDING_PAYMENT, S.FROZEN})


def next_billing_date(status: SubscriptionStatus, current_period_end: datetime) -> datetime | None:
    return current_period_end if status in RENEWING else None
