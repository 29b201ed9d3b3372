"""Taxes (rules TAX-1, TAX-2, MNY-2): which rate a customer pays, the tax on each invoice line
after its discount (rounded once, half away from zero), what a line costs with its tax, and the
taxable amount and tax per rate an invoice shows. Pure: the resolvers load the catalog's table and
the billing address the invoice is issued with (INV-3) and ask here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

from billing.proration import round_half_away_from_zero

if TYPE_CHECKING:
    from billing.quote import Line

PERCENT = re.compile(r"^\d{1,2}(\.\d{1,4})?$")

# The Union's member states by ISO 3166 code (TAX-2).
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

REVERSE_CHARGE_LEGEND = (
    "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)."
)


@dataclass(frozen=True)
class TaxRate:
    """One rate of a tax table, as printed on an invoice and stored with each line."""

    name: str  # "VAT"
    percent: str  # a decimal such as "22" or "8.875", exact (no floats)
    inclusive: bool = False  # the price already contains the tax
    country: str = ""
    region: str = ""
    reverse_charge: bool = False  # TAX-2: 0 %, the customer accounts for the VAT

    @cached_property  # parsing the percent is most of a tax's cost; a rate never changes
    def fraction(self) -> Fraction:
        return Fraction(self.percent) / 100

    @property
    def label(self) -> str:
        if self.reverse_charge:
            return f"{self.name} reverse charge 0 %"
        where = "-".join(part for part in (self.country, self.region) if part)
        return f"{self.name} {self.percent} %" + (f" ({where})" if where else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "percent": self.percent,
            "inclusive": self.inclusive,
            "country": self.country,
            "region": self.region,
            "reverse_charge": self.reverse_charge,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaxRate:
        return cls(
            name=str(data["name"]),
            percent=str(data["percent"]),
            inclusive=bool(data.get("inclusive", False)),
            country=str(data.get("country", "")),
            region=str(data.get("region", "")),
            reverse_charge=bool(data.get("reverse_charge", False)),
        )


NO_TAX = TaxRate("No tax", "0")


@dataclass(frozen=True)
class TaxTable:
    """The catalog's rates (TAX-1) and the seller's country, for TAX-2's reverse charge."""

    rates: tuple[TaxRate, ...] = ()
    seller_country: str = ""
    eu_reverse_charge: bool = True
    prices_include_tax: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "rates": [rate.to_json() for rate in self.rates],
            "seller_country": self.seller_country,
            "eu_reverse_charge": self.eu_reverse_charge,
            "prices_include_tax": self.prices_include_tax,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> TaxTable:
        data = data or {}
        return cls(
            rates=tuple(TaxRate.from_json(rate) for rate in data.get("rates", [])),
            seller_country=str(data.get("seller_country", "")),
            eu_reverse_charge=bool(data.get("eu_reverse_charge", True)),
            prices_include_tax=bool(data.get("prices_include_tax", False)),
        )


@dataclass(frozen=True)
class TaxCustomer:
    """The billing address an invoice is issued with (INV-3), as far as taxes need it."""

    country: str = ""
    region: str = ""
    vat_number: str = ""  # well-formed: checked when the billing information was saved


def rate_for(table: TaxTable, customer: TaxCustomer) -> TaxRate:
    """TAX-1, TAX-2: no country, no tax; an EU business with a VAT number in another member state
    than the seller's, reverse charge; else the region's rate, the country's, or none."""
    country = customer.country.upper()
    if not country:
        return NO_TAX
    if (
        table.eu_reverse_charge
        and customer.vat_number
        and country in EU_COUNTRIES
        and country != table.seller_country.upper()
    ):
        return TaxRate(
            "VAT",
            "0",
            inclusive=table.prices_include_tax,
            country=country,
            reverse_charge=True,
        )
    region = customer.region.upper()
    for wanted_region in ([region] if region else []) + [""]:
        for rate in table.rates:
            if rate.country == country and rate.region.upper() == wanted_region:
                return rate
    return NO_TAX


def tax_on(base: int, rate: TaxRate | None) -> int:
    """MNY-2: the tax on a line's amount after its discount, rounded once, half away from zero.
    Exclusive: base x rate. Inclusive: the part of base that is tax, base x rate / (1 + rate)."""
    if rate is None or rate.reverse_charge:
        return 0
    share = rate.fraction
    if rate.inclusive:
        share = share / (1 + share)
    return round_half_away_from_zero(base * share)


def taxed(line: Line, rate: TaxRate | None) -> Line:
    return replace(line, tax=tax_on(line.amount - line.discount, rate), tax_rate=rate)


def tax_lines(lines: Iterable[Line], rate: TaxRate, reversed_rate: TaxRate | None) -> list[Line]:
    """Every line taxed at the customer's rate; a credit (a negative line: unused time) at the
    rate of the charge it reverses, when that is known."""
    return [
        taxed(line, reversed_rate if line.amount < 0 and reversed_rate is not None else rate)
        for line in lines
    ]


def line_total(line: Line) -> int:
    """What a line costs the customer: after its discount, with its tax (an inclusive rate's tax
    is already in the amount)."""
    inclusive = line.tax_rate is not None and line.tax_rate.inclusive
    return line.amount - line.discount + (0 if inclusive else line.tax)


def line_taxable(line: Line) -> int:
    """The amount the tax is on: after the discount, without the tax."""
    inclusive = line.tax_rate is not None and line.tax_rate.inclusive
    return line.amount - line.discount - (line.tax if inclusive else 0)


def lines_total(lines: Iterable[Line]) -> int:
    return sum(line_total(line) for line in lines)


@dataclass(frozen=True)
class RateTotal:
    """TAX-1: the taxable amount and the tax of one rate on an invoice."""

    rate: TaxRate
    taxable: int
    tax: int

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.rate.to_json(), "taxable": self.taxable, "tax": self.tax}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RateTotal:
        return cls(TaxRate.from_json(data["rate"]), int(data["taxable"]), int(data["tax"]))


def summary(lines: Sequence[Line]) -> tuple[RateTotal, ...]:
    """The taxable amount and tax per rate, in the order the rates first appear; lines with no
    rate, or untaxed (no tax where the customer is), are left out."""
    totals: dict[TaxRate, tuple[int, int]] = {}
    for line in lines:
        if line.tax_rate is None or line.tax_rate == NO_TAX:
            continue
        taxable, tax = totals.get(line.tax_rate, (0, 0))
        totals[line.tax_rate] = (taxable + line_taxable(line), tax + line.tax)
    return tuple(RateTotal(rate, taxable, tax) for rate, (taxable, tax) in totals.items())


def legend(rates: Iterable[TaxRate]) -> str:
    """TAX-2: the words an invoice with a reverse-charged line must carry; empty otherwise."""
    return REVERSE_CHARGE_LEGEND if any(rate.reverse_charge for rate in rates) else ""
