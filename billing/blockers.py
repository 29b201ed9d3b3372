"""What must be resolved before a plan change (CHG-1): an overdue invoice, the subscription's
state, stock above the new plan's limits (CHG-10, CHG-11). billing.quote asks these."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from billing.metrics import STOCK_METRICS
from billing.subscription_status import SubscriptionStatus

if TYPE_CHECKING:
    from billing.quote import Facts, Item, Subscription


class BlockerCode(StrEnum):
    """What must be resolved before a change (CHG-1); clients branch on it."""

    OVERDUE_INVOICE = "OVERDUE_INVOICE"
    NO_PAYMENT_METHOD = "NO_PAYMENT_METHOD"
    PAYMENT_WAITING = "PAYMENT_WAITING"
    SEATS_IN_USE = "SEATS_IN_USE"
    TOO_MANY_SEATS = "TOO_MANY_SEATS"
    CONTACTS_ABOVE_LIMIT = "CONTACTS_ABOVE_LIMIT"
    STOCK_ABOVE_LIMIT = "STOCK_ABOVE_LIMIT"
    INTERVAL_SWITCH_PENDING = "INTERVAL_SWITCH_PENDING"
    INTERVAL_CHANGE_ALONE = "INTERVAL_CHANGE_ALONE"
    SUBSCRIPTION_FROZEN = "SUBSCRIPTION_FROZEN"
    SUBSCRIPTION_CANCELLING = "SUBSCRIPTION_CANCELLING"


@dataclass(frozen=True)
class Blocker:
    code: BlockerCode
    message: str


def status_blockers(current: Subscription) -> list[Blocker]:
    status = current.status
    messages = {
        SubscriptionStatus.FROZEN: (
            BlockerCode.SUBSCRIPTION_FROZEN,
            "The subscription is frozen: pay the overdue invoices first.",
        ),
        SubscriptionStatus.CANCELLING: (
            BlockerCode.SUBSCRIPTION_CANCELLING,
            "The subscription is being cancelled: reactivate it before changing the plan.",
        ),
    }
    if status in messages:
        code, message = messages[status]
        return [Blocker(code, message)]
    return []


def overdue_blockers(current: Subscription, facts: Facts) -> list[Blocker]:
    # CHG-1: one blocker however the overdue invoice is known (the status or the invoices).
    if facts.overdue_invoices or current.status is SubscriptionStatus.PENDING_PAYMENT:
        return [Blocker(BlockerCode.OVERDUE_INVOICE, "An invoice is overdue: pay it first.")]
    return []


def waiting_blockers(facts: Facts) -> list[Blocker]:
    """An earlier change still waiting: for its payment, or for the period end (INT-1)."""
    blockers = []
    if facts.payment_waiting:
        blockers.append(
            Blocker(
                BlockerCode.PAYMENT_WAITING,
                "An earlier change waits for its payment to be authenticated: finish that first.",
            )
        )
    if facts.interval_switch_pending:
        blockers.append(
            Blocker(
                BlockerCode.INTERVAL_SWITCH_PENDING,
                "A switch to a longer billing interval takes effect at the end of this period: "
                "change the plan after it.",
            )
        )
    return blockers


def stock_blockers(new: Item, facts: Facts) -> list[Blocker]:
    blockers = []
    if new.seats is not None and facts.seats_in_use is not None and new.seats < facts.seats_in_use:
        # CHG-10
        blockers.append(
            Blocker(
                BlockerCode.SEATS_IN_USE,
                f"{facts.seats_in_use} seat{'s are' if facts.seats_in_use != 1 else ' is'} in use:"
                f" remove users before going to {new.seats}.",
            )
        )
    if new.seats is not None and new.max_seats is not None and new.seats > new.max_seats:
        blockers.append(
            Blocker(
                BlockerCode.TOO_MANY_SEATS,
                f"{new.plan_name} allows at most {new.max_seats}"
                f" seat{'s' if new.max_seats != 1 else ''}: choose fewer seats or a higher plan.",
            )
        )
    stored_contacts = facts.stock.get("contacts")
    if (
        new.contact_limit is not None
        and stored_contacts is not None
        and stored_contacts > new.contact_limit
    ):
        # CHG-11
        blockers.append(
            Blocker(
                BlockerCode.CONTACTS_ABOVE_LIMIT,
                f"{stored_contacts:,} contacts are stored, more than the "
                f"{new.contact_limit:,} limit: delete some first.",
            )
        )
    for metric, limit in new.limits.items():
        stored = facts.stock.get(metric)
        if metric in STOCK_METRICS and stored is not None and stored > limit:
            blockers.append(
                Blocker(
                    BlockerCode.STOCK_ABOVE_LIMIT,
                    f"{stored:,} {metric} are stored, more than {new.plan_name}'s {limit:,}.",
                )
            )
    return blockers
