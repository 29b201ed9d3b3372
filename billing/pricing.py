"""The recurring price of one subscription item (CAT-1 to CAT-4).

Plan price + contact-limit step + seats beyond those included + add-ons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing.money import Money, total


@dataclass(frozen=True, slots=True)
class ItemPriceParts:
    plan: Money
    contact_limit_step: Money | None = None
    seat_unit: Money | None = None
    seats: int | None = None
    seats_included: int = 0
    add_ons: Sequence[Money] = ()


def extra_seats(seats: int | None, seats_included: int) -> int:
    if seats is None:
        return 0
    return max(0, seats - seats_included)


def item_recurring_amount(parts: ItemPriceParts) -> Money:
    currency = parts.plan.currency
    amounts = [parts.plan, *parts.add_ons]
    if parts.contact_limit_step is not None:
        amounts.append(parts.contact_limit_step)
    seats = extra_seats(parts.seats, parts.seats_included)
    if seats:
        if parts.seat_unit is None:
            raise ValueError("extra seats need a seat price")
        amounts.append(parts.seat_unit.times(seats))
    return total(amounts, currency)
