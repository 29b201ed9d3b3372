"""Listing an organization's invoices, newest first, a page at a time."""

from __future__ import annotations

from uuid import UUID

from billing.errors import BillingError
from billing.invoices import InvoiceStatus
from models import Invoice

MAX_PAGE = 100


async def invoice_page(
    organization_id: UUID, first: int, after_sequence: int | None, status: InvoiceStatus | None
) -> tuple[list[Invoice], bool, int]:
    if not 1 <= first <= MAX_PAGE:
        raise BillingError(f"first must be from 1 to {MAX_PAGE}, got {first}.", field="first")
    query = Invoice.filter(organization_id=organization_id)
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    if after_sequence is not None:
        query = query.filter(sequence__lt=after_sequence)
    rows = await query.order_by("-sequence").limit(first + 1)
    return rows[:first], len(rows) > first, total
