"""Listing an organization's invoices, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from billing.errors import BillingError
from billing.invoices import InvoiceStatus
from models import Invoice
from resolvers import hot_reads
from resolvers.hot_statements import column_conversions

MAX_PAGE = 100


def check_page_size(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise BillingError(f"first must be from 1 to {MAX_PAGE}, got {first}.", field="first")


async def invoice_page(
    organization_id: UUID, first: int, after_sequence: int | None, status: InvoiceStatus | None
) -> tuple[list[Invoice], bool, int]:
    check_page_size(first)
    if after_sequence is None:
        # The first page (the billing page's): the count comes with the rows, one statement.
        counted, total = await hot_reads.first_invoices(organization_id, status, first + 1)
        return counted[:first], len(counted) > first, total
    query = Invoice.filter(organization_id=organization_id)
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    rows = await query.filter(sequence__lt=after_sequence).order_by("-sequence").limit(first + 1)
    return rows[:first], len(rows) > first, total


async def first_page_columns(
    organization_id: UUID, first: int, status: InvoiceStatus | None, columns: tuple[str, ...]
) -> tuple[list[Any], int, tuple[Callable[[Any], Any] | None, ...]]:
    """The first page's `columns`, one row more than `first` (there are more when it is there),
    as the driver reads them, how many invoices there are in all (one statement), and what
    makes each column's value the model's (`column_conversions`)."""
    check_page_size(first)
    rows, total = await hot_reads.first_invoice_columns(organization_id, status, first + 1, columns)
    return rows, total, column_conversions(Invoice, columns)
