"""Money as integers in the currency's minor unit (rule MNY-1)."""

from __future__ import annotations

from dataclasses import dataclass

# ISO 4217 minor-unit exponents for the currencies the gateway formats; others are refused so a
# typo in a catalog never prints a price with the wrong number of decimals.
MINOR_UNIT_DIGITS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "JPY": 0,
}
_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class CurrencyMismatchError(ValueError):
    pass


def accepted(amount: object, currency: str) -> bool:
    """MNY-1: an amount is an int of minor units, in a currency the gateway knows."""
    return type(amount) is int and currency in MINOR_UNIT_DIGITS


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if accepted(self.amount, self.currency):
            return
        if type(self.amount) is not int:
            raise TypeError(f"Money amount must be an int in minor units, got {self.amount!r}")
        if self.currency not in MINOR_UNIT_DIGITS:
            raise ValueError(f"Unsupported currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"Cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def formatted(self) -> str:
        """Human form such as "$1,526.00" or "-€10.50" (never via floats)."""
        digits = MINOR_UNIT_DIGITS[self.currency]
        whole, fraction = divmod(abs(self.amount), 10**digits)
        number = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
        sign = "-" if self.amount < 0 else ""
        symbol = _SYMBOLS.get(self.currency)
        if symbol:
            return f"{sign}{symbol}{number}"
        return f"{sign}{number} {self.currency}"


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
