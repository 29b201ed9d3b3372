"""Taxes on previews and invoices (TAX-1, TAX-2): each line's rate, the taxable amount and tax
per rate, the reverse-charge legend and the seller's tax id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry

from billing import tax
from resolvers.taxes import seller_tax_id
from schema.common import Money


@strawberry.type(description="TAX-1: a tax rate as applied to an invoice line.")
class TaxRate:
    name: str
    percent: str = strawberry.field(description="An exact decimal, such as 22 or 8.875.")
    inclusive: bool = strawberry.field(description="The line's amount already contains the tax.")
    country: str
    region: str
    reverse_charge: bool = strawberry.field(
        description="TAX-2: 0 %, the customer accounts for the VAT."
    )
    label: str = strawberry.field(description="As printed, e.g. 'VAT 22 % (IT)'.")

    @classmethod
    def of(cls, rate: tax.TaxRate) -> TaxRate:
        return cls(
            name=rate.name,
            percent=rate.percent,
            inclusive=rate.inclusive,
            country=rate.country,
            region=rate.region,
            reverse_charge=rate.reverse_charge,
            label=rate.label,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TaxRate | None:
        return None if data is None else cls.of(tax.TaxRate.from_json(data))


@strawberry.type(description="TAX-1: the taxable amount and the tax of one rate.")
class TaxRateTotal:
    rate: TaxRate
    taxable: Money
    tax: Money


@strawberry.type(description="TAX-1, TAX-2: the taxes of a preview or an invoice.")
class TaxSummary:
    rates: list[TaxRateTotal]
    total: Money = strawberry.field(description="The tax of all lines.")
    legend: str = strawberry.field(description="TAX-2's reverse-charge legend; empty if none.")
    issued_seller_tax_id: strawberry.Private[str | None]

    @strawberry.field(description="The seller's tax id (on an invoice: as on the day of issue).")
    async def seller_tax_id(self) -> str:
        if self.issued_seller_tax_id is not None:
            return self.issued_seller_tax_id
        return await seller_tax_id()

    @classmethod
    def of(
        cls, rates: Iterable[tax.RateTotal], currency: str, seller: str | None = None
    ) -> TaxSummary:
        rates = list(rates)
        return cls(
            rates=[
                TaxRateTotal(
                    rate=TaxRate.of(r.rate),
                    taxable=Money.of(r.taxable, currency),
                    tax=Money.of(r.tax, currency),
                )
                for r in rates
            ],
            total=Money.of(sum(r.tax for r in rates), currency),
            legend=tax.legend(r.rate for r in rates),
            issued_seller_tax_id=seller,
        )
