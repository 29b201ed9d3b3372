"""Whether a card on file can still be charged (PAY-3)."""

from __future__ import annotations

from datetime import datetime


def card_expired(exp_year: int, exp_month: int, now: datetime) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (exp_year, exp_month) < (now.year, now.month)
