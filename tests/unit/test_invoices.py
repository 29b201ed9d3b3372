"""rule INV-1 and INV-2: invoice statuses move only along their table; numbers are sequential."""

from __future__ import annotations

import itertools

import pytest

from billing.invoices import (
    INVOICE_TRANSITIONS,
    InvoiceStatus,
    InvoiceTransitionError,
    credit_applied,
    invoice_number,
    invoice_transition,
)

S = InvoiceStatus


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.DRAFT, S.OPEN),  # issued
        (S.OPEN, S.PAID),
        (S.OPEN, S.VOID),
        (S.OPEN, S.UNCOLLECTIBLE),  # unpaid when the subscription is cancelled
        (S.UNCOLLECTIBLE, S.PAID),  # still payable
        (S.PAID, S.PARTIALLY_REFUNDED),
        (S.PARTIALLY_REFUNDED, S.REFUNDED),
    ],
)
def test_allowed(current: InvoiceStatus, wanted: InvoiceStatus) -> None:
    assert invoice_transition(current, wanted) is wanted


def test_nothing_outside_the_table() -> None:
    refused = 0
    for current, wanted in itertools.product(S, S):
        if (current, wanted) in INVOICE_TRANSITIONS:
            continue
        with pytest.raises(InvoiceTransitionError, match=f"cannot become {wanted.value}"):
            invoice_transition(current, wanted)
        refused += 1
    assert refused == len(S) ** 2 - len(INVOICE_TRANSITIONS)
    assert not any(current in (S.VOID, S.REFUNDED) for current, _ in INVOICE_TRANSITIONS)  # final


@pytest.mark.parametrize(
    ("current", "wanted"),
    [(S.UNCOLLECTIBLE, S.OPEN), (S.PAID, S.UNCOLLECTIBLE), (S.OPEN, S.DRAFT)],
)
def test_refused(current: InvoiceStatus, wanted: InvoiceStatus) -> None:
    with pytest.raises(InvoiceTransitionError):
        invoice_transition(current, wanted)


@pytest.mark.parametrize(
    ("balance", "total", "applied"),
    [(0, 5000, 0), (2000, 5000, 2000), (9000, 5000, 5000), (3000, 0, 0), (3000, -1200, 0)],
)
def test_int3_credit_applied(balance: int, total: int, applied: int) -> None:
    """rule INT-3: the credit balance pays first, up to the invoice's total, never below zero."""
    assert credit_applied(balance, total) == applied


def test_numbers() -> None:
    assert invoice_number("acme", 4) == "ACME-00004"
