"""Which due renewals may be renewed set-based, in a batch (issue 15, DUN-1).

A plain renewal is the common case: an ACTIVE subscription whose period has ended, renewing on
the same terms, paid by its default card, with nothing else to do at the period end. Everything
else (a trial, dunning, a scheduled change, a prepaid line, a credit balance, usage to invoice,
an autoscaled tier, a notice that comes first) goes through the clock's step-by-step path, which
the batch must match row for row. Pure: the resolver reads the facts, this decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billing.schedule import Due
from billing.subscription_status import SubscriptionStatus


class NotPlain(StrEnum):
    """Why a claimed subscription is left to the step-by-step path."""

    NOT_ACTIVE = "NOT_ACTIVE"  # trials, dunning, cancelling, downgrading, frozen
    OTHER_WORK_DUE = "OTHER_WORK_DUE"  # not the period end (a notice, a check, a usage month)
    SCHEDULED_CHANGE = "SCHEDULED_CHANGE"  # CHG-6, INT-1
    PREPAID_LINE = "PREPAID_LINE"  # CHG-7
    AUTOSCALING = "AUTOSCALING"  # PREF-4
    OVERAGE_AT_CLOSE = "OVERAGE_AT_CLOSE"  # PREF-1: volume may be bought at the month's close
    USAGE_TO_INVOICE = "USAGE_TO_INVOICE"  # USE-6: on-demand blocks past the limit
    OPEN_INVOICES = "OPEN_INVOICES"  # DUN-2's overdue check, CHG-5's stale changes
    CREDIT_BALANCE = "CREDIT_BALANCE"  # INT-3
    NO_CARD = "NO_CARD"  # DUN-2: a charge that cannot be made
    NOTHING_TO_CHARGE = "NOTHING_TO_CHARGE"  # paid at once, no charge (INV-1)
    DISCOUNT = "DISCOUNT"  # DSC-1: a discount in force counts its periods at renewal


@dataclass(frozen=True)
class RenewalFacts:
    """What decides it, read for one claimed subscription under its organization's lock."""

    status: SubscriptionStatus
    due: Due | None
    scheduled_change: bool = False
    prepaid_line: bool = False
    autoscaling: bool = False
    overage_at_close: bool = False
    on_demand_blocks: int = 0
    open_invoices: bool = False
    credit_balance: int = 0
    has_card: bool = True
    amount_due: int = 1
    discount: bool = False


def not_plain(facts: RenewalFacts) -> NotPlain | None:
    """None when the renewal is plain (batched); otherwise the first reason it is not."""
    checks = (
        (facts.status is not SubscriptionStatus.ACTIVE, NotPlain.NOT_ACTIVE),
        (facts.due is not Due.PERIOD_END, NotPlain.OTHER_WORK_DUE),
        (facts.scheduled_change, NotPlain.SCHEDULED_CHANGE),
        (facts.prepaid_line, NotPlain.PREPAID_LINE),
        (facts.autoscaling, NotPlain.AUTOSCALING),
        (facts.overage_at_close, NotPlain.OVERAGE_AT_CLOSE),
        (facts.on_demand_blocks > 0, NotPlain.USAGE_TO_INVOICE),
        (facts.open_invoices, NotPlain.OPEN_INVOICES),
        (facts.credit_balance != 0, NotPlain.CREDIT_BALANCE),
        (not facts.has_card, NotPlain.NO_CARD),
        (facts.amount_due <= 0, NotPlain.NOTHING_TO_CHARGE),
        (facts.discount, NotPlain.DISCOUNT),
    )
    return next((reason for failed, reason in checks if failed), None)
