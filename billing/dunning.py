"""Dunning clock rules (DUN-2, DUN-5, DUN-6): when an unpaid renewal is retried, and when
automatic charges may come back after a card failure. Facts in, decision out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

GRACE_PERIOD = timedelta(days=5)  # DUN-2
# DUN-6: automatic retries during the grace period, in days after the invoice's due date.
RETRY_DAYS = (1, 3, 5)


def next_retry_at(due_at: datetime, retries_made: int) -> datetime | None:
    """The moment the next automatic retry falls due; None once all of them were made."""
    if retries_made >= len(RETRY_DAYS):
        return None
    return due_at + timedelta(days=RETRY_DAYS[retries_made])


def retry_due(due_at: datetime, retries_made: int, now: datetime) -> int | None:
    """DUN-6: if a retry is due at `now`, the count of retries made once it runs; else None.

    A clock that skipped several retry days makes one attempt for all of them, not a burst.
    """
    passed = sum(1 for days in RETRY_DAYS if due_at + timedelta(days=days) <= now)
    return passed if passed > retries_made else None


class ResumeRefusal(StrEnum):
    NO_PAYMENT_METHOD = "NO_PAYMENT_METHOD"
    FAILING_CARD_STILL_DEFAULT = "FAILING_CARD_STILL_DEFAULT"


@dataclass(frozen=True)
class PauseFacts:
    paused: bool
    failed_card: str | None  # the processor id of the card whose payment failed
    default_card: str | None
    default_card_usable: bool


def resume_refusal(facts: PauseFacts) -> ResumeRefusal | None:
    """DUN-5: may auto-upgrade or flexible overage be switched on again? None when it may."""
    if not facts.paused:
        return None
    if facts.default_card is None or not facts.default_card_usable:
        return ResumeRefusal.NO_PAYMENT_METHOD
    if facts.default_card == facts.failed_card:
        return ResumeRefusal.FAILING_CARD_STILL_DEFAULT
    return None
