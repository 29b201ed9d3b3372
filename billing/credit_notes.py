"""Credit notes (rule CRN-1, MNY-2, TAX-1): what a refund reverses of an invoice's lines, and the
part of a plan change's credit its charges do not use. Pure: the resolvers load the invoice's
lines or the change's quote and write what is returned.

A credit note's amounts are positive: each line's `amount` is the credit without its tax (net),
`tax` the tax it reverses, at the rate of the line it reverses; its total is their sum. Integer
minor units throughout; no floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from math import floor
from typing import TYPE_CHECKING

from billing.proration import round_half_away_from_zero
from billing.tax import TaxRate, line_taxable, line_total, lines_total

if TYPE_CHECKING:
    from billing.quote import Line


class CreditDestination(StrEnum):
    REFUNDED_TO_CARD = "REFUNDED_TO_CARD"  # a refund: the money went back to the card
    CREDIT_BALANCE = "CREDIT_BALANCE"  # added to the organization's credit balance (INT-3)


@dataclass(frozen=True)
class CreditLine:
    """One line of a credit note: `amount` without tax, `tax` at `tax_rate` (None: untaxed)."""

    description: str
    amount: int
    tax: int = 0
    tax_rate: TaxRate | None = None

    @property
    def total(self) -> int:
        return self.amount + self.tax


def credit_total(lines: Sequence[CreditLine]) -> int:
    return sum(line.total for line in lines)


def split_gross(gross: int, rate: TaxRate | None) -> tuple[int, int]:
    """An amount with its tax, split into (net, tax) at `rate` so that net + tax == gross: the
    tax is the part of gross that is tax, gross x r / (1 + r), rounded once, half away from zero
    (MNY-2); reverse charge and no rate carry none."""
    if rate is None or rate.reverse_charge:
        return gross, 0
    share = rate.fraction
    tax = round_half_away_from_zero(gross * share / (1 + share))
    return gross - tax, tax


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` split in proportion to `weights` (their sum positive; a weight may be negative)
    by largest remainder: each share is its exact proportion rounded down, then the units left
    go one each to the largest remainders, earliest first on a tie. The shares sum to `amount`."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("the weights must have a positive sum")
    exact = [Fraction(amount * weight, whole) for weight in weights]
    shares = [floor(share) for share in exact]
    left = amount - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:left]:
        shares[index] += 1
    return shares


def refund_lines(
    amount: int, lines: Sequence[Line], description: str, already: int = 0
) -> list[CreditLine]:
    """CRN-1, TAX-1: a refund of `amount` (with tax, as charged) of an invoice with `lines`, of
    which `already` was refunded before: one credit line per tax rate of the invoice (in the
    order the rates first appear), net and tax at that rate. All refunds of the invoice so far
    are spread over its rates in proportion to what it charged at each (after discounts, with
    tax; largest remainder), each rate's share split into net and tax; this refund credits what
    that adds to the refunds before it, so that refunds reaching the invoice's total reverse its
    taxable amounts and taxes exactly. A rate whose lines credit more than they charge takes a
    negative share. Rates with nothing credited are left out; net + tax sum exactly to `amount`.
    `description` names the refund; with several rates, each line adds its rate's label."""
    if amount <= 0 or already < 0:
        raise ValueError("a refund is of a positive amount")
    rates = list(dict.fromkeys(line.tax_rate for line in lines))
    after = _refunded(already + amount, lines, rates)
    before = _refunded(already, lines, rates) if already else [(0, 0)] * len(rates)
    credited: list[CreditLine] = []
    for rate, (net, tax), (net_before, tax_before) in zip(rates, after, before, strict=True):
        if (net, tax) == (net_before, tax_before):
            continue
        named = f"{description} ({rate.label})" if len(rates) > 1 and rate else description
        credited.append(CreditLine(named, net - net_before, tax - tax_before, rate))
    return credited


def _refunded(
    amount: int, lines: Sequence[Line], rates: Sequence[TaxRate | None]
) -> list[tuple[int, int]]:
    """(net, tax) per rate of `amount` refunded in all: the invoice's own figures when it is the
    whole of it, else `amount` spread over the rates by what each charged."""
    charged = [sum(line_total(x) for x in lines if x.tax_rate == rate) for rate in rates]
    if amount == sum(charged):
        return [
            (
                sum(line_taxable(x) for x in lines if x.tax_rate == rate),
                sum(x.tax for x in lines if x.tax_rate == rate),
            )
            for rate in rates
        ]
    shares = allocate(amount, charged)
    return [split_gross(share, rate) for share, rate in zip(shares, rates, strict=True)]


@dataclass(frozen=True)
class ChangeSplit:
    """A plan change's lines as issued: the invoice's (never a negative total) and the credit
    note's (empty when the charges use all the credit)."""

    invoice_lines: tuple[Line, ...]
    credit_lines: tuple[CreditLine, ...]

    @property
    def credit_total(self) -> int:
        return credit_total(self.credit_lines)


def split_change(lines: Sequence[Line]) -> ChangeSplit:
    """CRN-1: a change whose credits (negative lines: unused time) exceed its charges. The
    credits pay the charges on the invoice, whose total becomes 0; the excess goes to a credit
    note, taken from the last credit line backwards, a line split in two where it crosses (its
    net and tax split at its rate, the two parts summing to the line exactly). A change whose
    total is not negative keeps its credits as lines of its invoice."""
    excess = -lines_total(lines)
    if excess <= 0:
        return ChangeSplit(tuple(lines), ())
    kept = list(lines)
    credited: list[CreditLine] = []
    for index in range(len(kept) - 1, -1, -1):
        if excess == 0:
            break
        line = kept[index]
        gross = -line_total(line)
        if gross <= 0:
            continue
        if gross <= excess:
            credited.append(
                CreditLine(line.description, -line_taxable(line), -line.tax, line.tax_rate)
            )
            del kept[index]
            excess -= gross
            continue
        net, tax = split_gross(excess, line.tax_rate)
        credited.append(CreditLine(line.description, net, tax, line.tax_rate))
        inclusive = line.tax_rate is not None and line.tax_rate.inclusive
        kept[index] = replace(
            line, amount=line.amount + (excess if inclusive else net), tax=line.tax + tax
        )
        excess = 0
    credited.reverse()
    return ChangeSplit(tuple(kept), tuple(credited))
