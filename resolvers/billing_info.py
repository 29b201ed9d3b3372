"""Billing information (INV-3): what the next invoices are issued to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from billing.errors import BillingError
from models import BillingInfo
from resolvers.vat_numbers import normalized_vat_number

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class BillingInfoChange:
    company_name: str
    billing_email: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    region: str = ""
    tax_id: str = ""
    contact_name: str = ""


async def update_billing_info(organization_id: UUID, change: BillingInfoChange) -> BillingInfo:
    values = {name: str(value).strip() for name, value in vars(change).items()}
    if not values["company_name"]:
        raise BillingError("The company name is required on invoices.", field="companyName")
    if not _EMAIL.match(values["billing_email"]):
        raise BillingError(
            f"{values['billing_email']!r} is not an e-mail address.", field="billingEmail"
        )
    values["country"] = values["country"].upper()
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        raise BillingError(
            "The country is a two-letter ISO 3166 code, such as IT or US.", field="country"
        )
    values["region"] = values["region"].upper()
    if values["region"] and not re.fullmatch(r"[A-Z0-9]{1,3}", values["region"]):
        raise BillingError(
            "The region is an ISO 3166-2 subdivision code without its country, such as QC or "
            "CA (up to three letters or digits); leave it empty where the country is enough.",
            field="region",
        )
    # TAX-2: an EU customer's tax id is its VAT number: a malformed one is refused, not taken
    # for a consumer's (which would charge VAT the business does not owe).
    values["tax_id"] = normalized_vat_number(values["country"], values["tax_id"])
    info, _ = await BillingInfo.update_or_create(organization_id=organization_id, defaults=values)
    return info
