"""rules CAT-1 to CAT-4: an item's recurring amount."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import Money
from billing.pricing import ItemPriceParts, extra_seats, item_recurring_amount
from billing.subscription_status import SubscriptionStatus, next_billing_date

USD = "USD"


def test_marketing_plus_with_ladder_seats_and_add_ons() -> None:
    # rule CAT-3, CAT-4: $49 + 2,500-contact step $30 + (3 seats - 1 included) x $19 + SMS $10
    parts = ItemPriceParts(
        plan=Money(4900, USD),
        contact_limit_step=Money(3000, USD),
        seat_unit=Money(1900, USD),
        seats=3,
        seats_included=1,
        add_ons=[Money(1000, USD)],
    )
    assert item_recurring_amount(parts) == Money(4900 + 3000 + 2 * 1900 + 1000, USD)


def test_extra_seats_without_a_seat_price_is_an_error() -> None:
    with pytest.raises(ValueError, match="seat price"):
        item_recurring_amount(ItemPriceParts(plan=Money(100, USD), seats=5, seats_included=1))


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=500))
def test_included_seats_are_free(seats: int, included: int) -> None:
    assert extra_seats(seats, included) == max(0, seats - included)
    assert extra_seats(None, included) == 0


@pytest.mark.parametrize(
    ("status", "renews"),
    [
        (SubscriptionStatus.ACTIVE, True),
        (SubscriptionStatus.DOWNGRADING, True),
        (SubscriptionStatus.PENDING_PAYMENT, True),
        (SubscriptionStatus.FROZEN, True),
        (SubscriptionStatus.TRIALING, False),
        (SubscriptionStatus.TRIAL_ENDED, False),
        (SubscriptionStatus.CANCELLING, False),
        (SubscriptionStatus.CANCELLED, False),
    ],
)
def test_next_billing_date(status: SubscriptionStatus, renews: bool) -> None:
    # rule DUN-1 (renewal at the period end), SUB-2 (no charge from a trial), CAN-1
    from datetime import UTC, datetime

    end = datetime(2026, 4, 2, tzinfo=UTC)
    assert next_billing_date(status, end) == (end if renews else None)
