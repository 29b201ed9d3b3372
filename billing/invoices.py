"""Invoice statuses (rule INV-1), their transitions, and invoice numbers (INV-2)."""

from __future__ import annotations

from enum import StrEnum

from billing.errors import BillingError


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    UNCOLLECTIBLE = "UNCOLLECTIBLE"
    VOID = "VOID"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class InvoiceKind(StrEnum):
    SUBSCRIPTION = "SUBSCRIPTION"  # issued at the start of each period (INV-4)
    PLAN_CHANGE = "PLAN_CHANGE"  # a mid-period change, subscribing, an interval switch
    USAGE = "USAGE"  # on-demand blocks and flexible overage, monthly (INV-4)


_S = InvoiceStatus
INVOICE_TRANSITIONS: frozenset[tuple[InvoiceStatus, InvoiceStatus]] = frozenset(
    {
        (_S.DRAFT, _S.OPEN),
        (_S.DRAFT, _S.PAID),
        (_S.DRAFT, _S.VOID),
        (_S.OPEN, _S.PAID),
        (_S.OPEN, _S.UNCOLLECTIBLE),
        (_S.OPEN, _S.VOID),
        (_S.UNCOLLECTIBLE, _S.PAID),
        (_S.UNCOLLECTIBLE, _S.VOID),
        (_S.PAID, _S.REFUNDED),
        (_S.PAID, _S.PARTIALLY_REFUNDED),
        (_S.PARTIALLY_REFUNDED, _S.PARTIALLY_REFUNDED),
        (_S.PARTIALLY_REFUNDED, _S.REFUNDED),
    }
)


class InvoiceTransitionError(BillingError):
    pass


def invoice_transition(current: InvoiceStatus, wanted: InvoiceStatus) -> InvoiceStatus:
    if (current, wanted) not in INVOICE_TRANSITIONS:
        raise InvoiceTransitionError(
            f"An invoice that is {current.value} cannot become {wanted.value}."
        )
    return wanted


def credit_applied(credit_balance: int, total: int) -> int:
    """INT-3: the credit balance pays an invoice first, up to its total; a negative total takes
    nothing (it adds to the balance instead)."""
    return min(credit_balance, max(total, 0))


def invoice_number(prefix: str, sequence: int) -> str:
    return f"{prefix.upper()}-{sequence:05d}"
