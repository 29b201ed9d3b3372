"""rule INV-1 and INV-2: invoice statuses move only along their table; numbers are sequential."""

from __future__ import annotations

import itertools

import pytest

from billing.invoices import (
    INVOICE_TRANSITIONS,
    InvoiceStatus,
    InvoiceTransitionError,
    invoice_number,
    invoice_transition,
)

S = InvoiceStatus


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.OPEN, S.PAID),
        (S.OPEN, S.VOID),
        (S.UNCOLLECTIBLE, S.PAID),
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


def test_numbers() -> None:
    assert invoice_number("acme", 4) == "ACME-00004"
