"""CUR-1: which currency an organization is billed in, and when it may change.

Prices may be set in several currencies; an organization's currency may be chosen when it is
provisioned and is fixed when it first subscribes; its invoices never mix currencies. Pure: the
catalog's currencies and the organization's facts in, the currency or a refusal out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from billing.errors import BillingError
from billing.money import MINOR_UNIT_DIGITS

CURRENCY_UNSUPPORTED = "CURRENCY_UNSUPPORTED"
CURRENCY_FIXED = "CURRENCY_FIXED"
CURRENCY_MISMATCH = "CURRENCY_MISMATCH"


def normalized(code: str) -> str:
    return code.strip().upper()


def chosen_currency(wanted: str | None, offered: Collection[str], default: str) -> str:
    """The currency an organization is billed in: `wanted` if the catalog prices everything in
    it, else the catalog's default; an unknown or unpriced currency is refused."""
    if wanted is None:
        return default
    code = normalized(wanted)
    if code not in offered:
        why = (
            f"The catalog has no prices in {code}"
            if code in MINOR_UNIT_DIGITS
            else f"{wanted!r} is not a currency the gateway knows (an ISO 4217 code)"
        )
        raise BillingError(
            f"{why}: choose one of {', '.join(offered)}.",
            field="currency",
            reason=CURRENCY_UNSUPPORTED,
        )
    return code


def currency_change(
    current: str, wanted: str, offered: Collection[str], *, has_subscribed: bool
) -> str:
    """CUR-1: the new currency of an organization, refused once it has subscribed (its
    invoices, credit balance and prices are in the current one)."""
    code = chosen_currency(wanted, offered, current)
    if code != current and has_subscribed:
        raise BillingError(
            f"The organization is billed in {current} since its first subscription: its "
            f"currency is fixed and cannot become {code}.",
            field="currency",
            reason=CURRENCY_FIXED,
        )
    return code


def check_one_currency(invoice_currency: str, amount_currencies: Iterable[str]) -> None:
    """CUR-1: an invoice never mixes currencies; an amount in another one is refused."""
    others = sorted({c for c in amount_currencies if c != invoice_currency})
    if others:
        raise BillingError(
            f"This would mix {', '.join(others)} into an invoice in {invoice_currency}: an "
            "invoice is in one currency.",
            reason=CURRENCY_MISMATCH,
        )


def missing_prices(declared: Iterable[str], priced: Collection[str], default: str) -> list[str]:
    """The declared currencies a price has no amount in (the default is the price's own)."""
    return [c for c in declared if c != default and c not in priced]
