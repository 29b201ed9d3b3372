"""Credit notes (CRN-1): a refund's or a plan change's credit, the invoice it corrects, its lines
with the tax they reverse, where the money went; the paginated list an organization exposes."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from billing import tax
from billing.credit_notes import CreditDestination, CreditLine, credit_total
from models import CreditNote as CreditNoteRow
from resolvers.credit_notes import credit_note_lines, credit_tax_summary, invoice_of
from resolvers.credit_notes import stored_credit_line as stored_credit_line
from schema.common import Money
from schema.invoice import PageInfo
from schema.tax import TaxRate, TaxSummary

if TYPE_CHECKING:
    from schema.invoice import Invoice

strawberry.enum(
    CreditDestination,
    description="CRN-1: where a credit note's money went: back to the card, or to the credit "
    "balance (INT-3).",
)


@strawberry.type(description="CRN-1: one line of a credit note; amounts are credits (positive).")
class CreditNoteLine:
    description: str
    amount: Money = strawberry.field(description="Credited, without tax.")
    tax: Money = strawberry.field(description="The tax reversed, at the rate of the line reversed.")
    tax_rate: TaxRate | None
    total: Money = strawberry.field(description="amount + tax.")

    @classmethod
    def of(cls, line: CreditLine, currency: str) -> CreditNoteLine:
        return cls(
            description=line.description,
            amount=Money.of(line.amount, currency),
            tax=Money.of(line.tax, currency),
            tax_rate=TaxRate.of(line.tax_rate) if line.tax_rate else None,
            total=Money.of(line.total, currency),
        )


@strawberry.type(
    description="CRN-1: a credit on an issued invoice (a refund, or unused time a change credits "
    "beyond its charges), numbered in its own sequence."
)
class CreditNote:
    id: strawberry.ID
    number: str
    invoice_id: strawberry.ID = strawberry.field(description="The invoice it corrects.")
    currency: str
    subtotal: Money = strawberry.field(description="Credited, without tax.")
    tax: Money = strawberry.field(description="The tax reversed.")
    tax_summary: TaxSummary = strawberry.field(description="TAX-1: per rate, as issued.")
    total: Money = strawberry.field(description="subtotal + tax: what was credited.")
    reason: str
    destination: CreditDestination
    issued_at: datetime
    credit_note_id: strawberry.Private[UUID]
    corrected_invoice_id: strawberry.Private[UUID]

    @strawberry.field(description="The invoice it corrects.")
    async def invoice(self) -> Annotated[Invoice, strawberry.lazy("schema.invoice")]:
        from schema.invoice import Invoice

        return Invoice.of(await invoice_of(self.corrected_invoice_id))

    @strawberry.field
    async def lines(self) -> list[CreditNoteLine]:
        rows = await credit_note_lines(self.credit_note_id)
        return [CreditNoteLine.of(stored_credit_line(row), self.currency) for row in rows]

    @strawberry.field(description="GET it with the same bearer token (billing roles only).")
    def pdf_url(self) -> str:
        return f"/credit-notes/{self.credit_note_id}.pdf"

    @classmethod
    def of(cls, row: CreditNoteRow) -> CreditNote:
        currency = row.currency
        seller = str((row.billing_details or {}).get("issuer", {}).get("tax_id", ""))
        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number,
            invoice_id=strawberry.ID(str(row.invoice_id)),
            currency=currency,
            subtotal=Money.of(row.subtotal, currency),
            tax=Money.of(row.tax_total, currency),
            tax_summary=TaxSummary.of(
                [tax.RateTotal.from_json(r) for r in row.tax_summary or []], currency, seller
            ),
            total=Money.of(row.total, currency),
            reason=row.reason,
            destination=row.destination,
            issued_at=row.issued_at,
            credit_note_id=row.id,
            corrected_invoice_id=row.invoice_id,
        )


@strawberry.type(
    description="CRN-1: the credit note applying a plan change would issue; nothing is stored."
)
class CreditNotePreview:
    destination: CreditDestination
    lines: list[CreditNoteLine]
    subtotal: Money
    tax: Money
    tax_summary: TaxSummary
    total: Money

    @classmethod
    def of(cls, lines: Sequence[CreditLine], currency: str) -> CreditNotePreview:
        return cls(
            destination=CreditDestination.CREDIT_BALANCE,
            lines=[CreditNoteLine.of(line, currency) for line in lines],
            subtotal=Money.of(sum(line.amount for line in lines), currency),
            tax=Money.of(sum(line.tax for line in lines), currency),
            tax_summary=TaxSummary.of(credit_tax_summary(lines), currency),
            total=Money.of(credit_total(lines), currency),
        )


@strawberry.type
class CreditNoteEdge:
    cursor: str
    node: CreditNote


@strawberry.type
class CreditNoteConnection:
    edges: list[CreditNoteEdge]
    page_info: PageInfo
    total_count: int


def encode_credit_note_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"credit_note:{sequence}".encode()).decode()


def decode_credit_note_cursor(cursor: str) -> int | None:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(value) if kind == "credit_note" else None
    except (ValueError, UnicodeDecodeError):
        return None
