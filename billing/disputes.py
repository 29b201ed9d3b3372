"""Disputes (chargebacks) the processor reports on a paid invoice: their statuses, the moves
between them, and what a closed dispute means for the money (INV-5: a lost dispute is a refund
of the disputed amount, never more than is left; a won one changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DisputeStatus(StrEnum):
    NEEDS_RESPONSE = "NEEDS_RESPONSE"  # opened: evidence is expected
    UNDER_REVIEW = "UNDER_REVIEW"  # evidence submitted, the bank decides
    WON = "WON"  # closed in the seller's favour: the money stays
    LOST = "LOST"  # closed in the cardholder's favour: the money is taken back
    CLOSED = "CLOSED"  # an inquiry closed without a chargeback: the money stays

    @property
    def closed(self) -> bool:
        return self in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.CLOSED})


@dataclass(frozen=True)
class DisputeMove:
    """What a reported status does to a dispute the gateway knows (or does not know yet)."""

    status: DisputeStatus  # the status to keep
    changed: bool  # the stored status changes
    opened: bool  # the dispute is new to the gateway (notice + webhook: created)
    closes: bool  # the dispute closes now (notice + webhook: closed)
    takes_money: bool  # a lost dispute: recorded as a refund


def dispute_move(current: DisputeStatus | None, reported: DisputeStatus) -> DisputeMove:
    """`current` is None for a dispute the gateway has not recorded (its created event may come
    after the closed one). A closed dispute stays as it closed: a later or redelivered event
    changes nothing."""
    if current is not None and current.closed:
        return DisputeMove(current, changed=False, opened=False, closes=False, takes_money=False)
    closes = reported.closed
    return DisputeMove(
        reported,
        changed=current is not reported,
        opened=current is None,
        closes=closes,
        takes_money=closes and reported is DisputeStatus.LOST,
    )


def amount_taken(disputed: int, left: int) -> int:
    """A lost dispute takes the disputed amount, at most what is left of the payment (an earlier
    refund already returned the rest); never negative."""
    return max(0, min(disputed, left))
