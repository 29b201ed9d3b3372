"""The issuer and the customer as printed on an invoice, from the details it was issued with
(INV-3): one wording for the API and the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Party:
    name: str
    lines: list[str]


def issuer(details: dict[str, Any]) -> Party | None:
    data = details.get("issuer") or {}
    if not data:
        return None
    tax_id = data.get("tax_id", "")
    lines = [*data.get("address", []), data.get("email", ""), f"Tax id {tax_id}" if tax_id else ""]
    return Party(data["name"], [line for line in lines if line])


def customer(details: dict[str, Any]) -> Party | None:
    data = details.get("customer") or {}
    if not data:
        return None
    place = " ".join(part for part in (data.get("postal_code", ""), data.get("city", "")) if part)
    lines = [
        data.get("contact_name", ""),
        data.get("address_line1", ""),
        data.get("address_line2", ""),
        place,
        "-".join(part for part in (data.get("country", ""), data.get("region", "")) if part),
        data.get("billing_email", ""),
        f"Tax id {data['tax_id']}" if data.get("tax_id") else "",
    ]
    return Party(data["company_name"], [line for line in lines if line])
