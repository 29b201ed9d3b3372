"""Billing information (INV-3) and the parties printed on an invoice."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import BillingInfo as BillingInfoRow
from resolvers.billing_info import BillingInfoChange
from schema.plan_change import UserError


@strawberry.type
class BillingInfo:
    company_name: str
    billing_email: str
    address_line1: str
    address_line2: str
    city: str
    postal_code: str
    country: str
    region: str
    tax_id: str
    contact_name: str

    @classmethod
    def of(cls, row: BillingInfoRow) -> BillingInfo:
        return cls(
            company_name=row.company_name,
            billing_email=row.billing_email,
            address_line1=row.address_line1,
            address_line2=row.address_line2,
            city=row.city,
            postal_code=row.postal_code,
            country=row.country,
            region=row.region,
            tax_id=row.tax_id,
            contact_name=row.contact_name,
        )


@strawberry.input
class BillingInfoInput:
    company_name: str
    billing_email: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = strawberry.field(default="", description="ISO 3166 two-letter code.")
    region: str = strawberry.field(
        default="",
        description="TAX-1: ISO 3166-2 subdivision code without the country (QC), where the "
        "catalog sets a rate per region; empty otherwise.",
    )
    tax_id: str = ""
    contact_name: str = ""

    def to_change(self) -> BillingInfoChange:
        return BillingInfoChange(
            **{name: getattr(self, name) for name in BillingInfoChange.__dataclass_fields__}
        )


@strawberry.type
class BillingInfoUpdated:
    billing_info: BillingInfo


BillingInfoResult = Annotated[BillingInfoUpdated | UserError, strawberry.union("BillingInfoResult")]
