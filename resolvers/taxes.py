"""TAX-1, TAX-2: the rate an organization's next invoice is taxed at, from the catalog's table
and the billing address it is issued with (INV-3), and the rate of the charge a credit for unused
time reverses. The rules are billing.tax's; this module loads what they need."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from billing.quote import Line
from billing.tax import NO_TAX, TaxCustomer, TaxRate, TaxTable, rate_for, tax_lines
from models import BillingInfo, Issuer
from resolvers import hot_reads


async def tax_table() -> TaxTable:
    issuer = await Issuer.get_or_none(id=1)
    return TaxTable.from_json(issuer.taxes if issuer else None)


def tax_customer(customer: dict[str, Any]) -> TaxCustomer:
    """The billing details an invoice is issued with, as far as its tax goes."""
    return TaxCustomer(
        country=str(customer.get("country", "")),
        region=str(customer.get("region", "")),
        vat_number=str(customer.get("tax_id", "")),
    )


async def customer_rate(organization_id: UUID) -> TaxRate:
    """The rate of the billing information as it is now: what the next invoice is issued with."""
    details = await hot_reads.tax_details(organization_id)
    if details is None:
        return NO_TAX
    country, region, vat_number = details
    customer = TaxCustomer(country=country, region=region, vat_number=vat_number)
    return rate_for(await tax_table(), customer)


def rate_of(issuer: Issuer | None, info: BillingInfo | None) -> TaxRate:
    """As `customer_rate`, from the issuer and the billing information already read."""
    if info is None:
        return NO_TAX
    customer = TaxCustomer(country=info.country, region=info.region, vat_number=info.tax_id)
    return rate_for(TaxTable.from_json(issuer.taxes if issuer else None), customer)


async def reversed_rate(organization_id: UUID, now: datetime) -> TaxRate | None:
    """The rate of the latest charge for the period running at `now`: a credit for its unused
    time is taxed at it. None when no such charge was invoiced (the current rate then)."""
    return reversed_rate_of(*await hot_reads.latest_charge_rate(organization_id, now))


def reversed_rate_of(found: bool, tax_rate: Any) -> TaxRate | None:
    """As `reversed_rate`, from the latest charge's rate already read."""
    if not found:
        return None
    return NO_TAX if tax_rate is None else TaxRate.from_json(tax_rate)


async def taxed_for(organization_id: UUID, lines: list[Line]) -> list[Line]:
    """New charges taxed at the organization's current rate (renewals, usage invoices)."""
    return tax_lines(lines, await customer_rate(organization_id), None)


async def seller_tax_id() -> str:
    """TAX-1: the seller's tax id, printed with every amount that carries tax."""
    issuer = await Issuer.get_or_none(id=1)
    return issuer.tax_id if issuer else ""
