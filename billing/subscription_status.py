"""Subscription statuses (rule SUB-1) and what they mean for the next charge."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class SubscriptionStatus(StrEnum):
    TRIALING = "TRIALING"
    TRIAL_ENDED = "TRIAL_ENDED"
    ACTIVE = "ACTIVE"
    DOWNGRADING = "DOWNGRADING"
    CANCELLING = "CANCELLING"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    FROZEN = "FROZEN"
    CANCELLED = "CANCELLED"


# Statuses that renew at the end of the current period (DUN-1). A trial charges nothing until
# the customer subscribes (SUB-2); a cancelling subscription ends instead of renewing (CAN-1).
_RENEWING = frozenset(
    {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.DOWNGRADING,
        SubscriptionStatus.PENDING_PAYMENT,
        SubscriptionStatus.FROZEN,
    }
)


def next_billing_date(status: SubscriptionStatus, current_period_end: datetime) -> datetime | None:
    return current_period_end if status in _RENEWING else None
