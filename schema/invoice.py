"""Invoices (INV-1, INV-2), their lines, and the paginated connection an organization exposes."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from billing import invoice_parties, tax
from billing.disputes import DisputeStatus
from billing.invoices import InvoiceKind, InvoiceStatus
from billing.quote import Line
from billing.tax import line_total
from models import Dispute as DisputeRow
from models import Invoice as InvoiceRow
from models import InvoiceLine as InvoiceLineRow
from resolvers.credit_notes import invoice_credit_notes
from resolvers.invoicing import stored_line
from resolvers.renewal import UpcomingRenewal
from schema.common import Money
from schema.context import Info
from schema.permissions import CanReadBilling
from schema.tax import TaxRate, TaxSummary

if TYPE_CHECKING:
    from schema.credit_note import CreditNote

strawberry.enum(InvoiceStatus, description="INV-1")
strawberry.enum(InvoiceKind, description="INV-4")
strawberry.enum(
    DisputeStatus,
    description="A dispute's status: NEEDS_RESPONSE and UNDER_REVIEW are open; WON, LOST and "
    "CLOSED (an inquiry without a chargeback) are closed; only LOST takes money back (INV-5).",
)


@strawberry.type(
    description="INV-5: a dispute (chargeback) the payment processor reported on the invoice's "
    "payment; a lost one is also a refund of the disputed amount (at most what was left)."
)
class Dispute:
    id: strawberry.ID = strawberry.field(description="The processor's dispute id.")
    amount: Money = strawberry.field(description="The disputed amount.")
    reason: str = strawberry.field(description="The processor's reason, e.g. fraudulent.")
    status: DisputeStatus
    opened_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, row: DisputeRow) -> Dispute:
        return cls(
            id=strawberry.ID(row.processor_dispute_id),
            amount=Money.of(row.amount, row.currency),
            reason=row.reason,
            status=row.status,
            opened_at=row.opened_at,
            closed_at=row.closed_at,
        )


@strawberry.type(
    description="A party printed on an invoice, as it was when the invoice was issued."
)
class InvoiceParty:
    name: str
    lines: list[str]


def issuer_party(details: dict[str, Any]) -> InvoiceParty | None:
    party = invoice_parties.issuer(details)
    return InvoiceParty(name=party.name, lines=party.lines) if party else None


def customer_party(details: dict[str, Any]) -> InvoiceParty | None:
    party = invoice_parties.customer(details)
    return InvoiceParty(name=party.name, lines=party.lines) if party else None


@strawberry.type
class InvoiceLine:
    description: str
    amount: Money = strawberry.field(description="The line's (prorated) amount, rounded (MNY-2).")
    discount: Money = strawberry.field(
        description="DSC-2: what the discount takes off `amount`, rounded once; 0 for none."
    )
    period_start: datetime | None
    period_end: datetime | None
    tax: Money = strawberry.field(description="TAX-1: the line's tax, rounded once (MNY-2).")
    tax_rate: TaxRate | None
    total: Money = strawberry.field(description="After discount, with tax (TAX-1).")

    @classmethod
    def of(cls, row: InvoiceLineRow | Line, currency: str) -> InvoiceLine:
        line = row if isinstance(row, Line) else stored_line(row)
        return cls(
            description=line.description,
            amount=Money.of(line.amount, currency),
            discount=Money.of(line.discount, currency),
            period_start=line.period_start,
            period_end=line.period_end,
            tax=Money.of(line.tax, currency),
            tax_rate=TaxRate.of(line.tax_rate) if line.tax_rate else None,
            total=Money.of(line_total(line), currency),
        )


@strawberry.type(
    description=(
        "INV-1: the next renewal invoice as a DRAFT, computed from the terms in force at the "
        "period end (scheduled downgrades, prepaid periods, the credit balance), never stored: "
        "it has no number and no PDF until the billing clock issues it."
    )
)
class UpcomingInvoice:
    status: InvoiceStatus = strawberry.field(description="Always DRAFT.")
    kind: InvoiceKind
    lines: list[InvoiceLine]
    total: Money = strawberry.field(
        description="The sum of the rounded lines after their discounts, with their taxes (MNY-2, "
        "DSC-2, TAX-1)."
    )
    discount_total: Money = strawberry.field(description="The sum of the lines' discounts.")
    tax: TaxSummary = strawberry.field(description="TAX-1: taxable amount and tax per rate.")
    credit_applied: Money = strawberry.field(description="To be paid from the credit balance.")
    amount_due: Money = strawberry.field(description="To be charged to the default card.")
    issues_at: datetime = strawberry.field(
        description="When it is issued and charged: the start of the period it bills (DUN-1)."
    )
    period_start: datetime
    period_end: datetime

    @classmethod
    def of(cls, renewal: UpcomingRenewal) -> UpcomingInvoice:
        currency = renewal.currency
        return cls(
            status=InvoiceStatus.DRAFT,
            kind=InvoiceKind.SUBSCRIPTION,
            lines=[InvoiceLine.of(line, currency) for line in renewal.lines],
            total=Money.of(renewal.total, currency),
            discount_total=Money.of(renewal.discount_total, currency),
            tax=TaxSummary.of(tax.summary(renewal.lines), currency),
            credit_applied=Money.of(renewal.credit_applied, currency),
            amount_due=Money.of(renewal.amount_due, currency),
            issues_at=renewal.period_start,
            period_start=renewal.period_start,
            period_end=renewal.period_end,
        )


def _issued_tax(root: strawberry.Parent[Invoice]) -> TaxSummary:
    # Built when asked for: a page of invoices (the billing page's) does not ask for it.
    return TaxSummary.of(
        [tax.RateTotal.from_json(r) for r in root.tax_summary or []],
        root.currency,
        str(root.details.get("issuer", {}).get("tax_id", "")),
    )


@strawberry.type
class Invoice:
    id: strawberry.ID
    number: str
    kind: InvoiceKind
    status: InvoiceStatus
    total: Money = strawberry.field(
        description="The sum of the rounded lines after their discounts, with their taxes (MNY-2, "
        "DSC-2, TAX-1)."
    )
    discount_total: Money = strawberry.field(description="The sum of the lines' discounts.")
    tax: TaxSummary = strawberry.field(
        description="TAX-1, TAX-2: taxable amount and tax per rate, as issued.",
        resolver=_issued_tax,
    )
    credit_applied: Money = strawberry.field(description="Paid from the credit balance (INT-3).")
    amount_due: Money
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    invoice_id: strawberry.Private[UUID]
    organization_id: strawberry.Private[UUID]
    currency: strawberry.Private[str]
    details: strawberry.Private[dict[str, Any]]
    tax_summary: strawberry.Private[list[dict[str, Any]] | None]

    @strawberry.field(description="The issuer, as on the day of issue (INV-3).")
    def issuer(self) -> InvoiceParty | None:
        return issuer_party(self.details)

    @strawberry.field(description="The customer's billing details, as on the day of issue (INV-3).")
    def billed_to(self) -> InvoiceParty | None:
        return customer_party(self.details)

    @strawberry.field(description="GET it with the same bearer token (billing roles only).")
    def pdf_url(self) -> str:
        return f"/invoices/{self.invoice_id}.pdf"

    @classmethod
    def of(cls, row: InvoiceRow) -> Invoice:
        return cls(
            id=strawberry.ID(str(row.id)),
            number=row.number,
            kind=row.kind,
            status=row.status,
            total=Money.of(row.total, row.currency),
            discount_total=Money.of(row.discount_total, row.currency),
            credit_applied=Money.of(row.credit_applied, row.currency),
            amount_due=Money.of(row.amount_due, row.currency),
            issued_at=row.issued_at,
            due_at=row.due_at,
            paid_at=row.paid_at,
            period_start=row.period_start,
            period_end=row.period_end,
            invoice_id=row.id,
            organization_id=row.organization_id,
            currency=row.currency,
            details=row.billing_details or {},
            tax_summary=row.tax_summary,
        )

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description=(
            "CHG-5, DUN-6: the client secret of a payment that waits for the customer's "
            "authentication (3-D Secure), for the billing page to complete it; null otherwise."
        ),
    )
    async def payment_client_secret(self, info: Info) -> str | None:
        waiting = await info.context.loaders.waiting_payments_by_invoice.load(self.invoice_id)
        return waiting[-1].client_secret if waiting else None

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="INV-5: the disputes of the invoice's payment, oldest first (billing roles).",
    )
    async def disputes(self, info: Info) -> list[Dispute] | None:
        rows = await info.context.loaders.disputes_by_invoice.load(self.invoice_id)
        return [Dispute.of(row) for row in rows]

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="INV-5: whether a dispute of the invoice's payment is open (billing roles).",
    )
    async def disputed(self, info: Info) -> bool | None:
        rows = await info.context.loaders.disputes_by_invoice.load(self.invoice_id)
        return any(not row.status.closed for row in rows)

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.lines_by_invoice.load(self.invoice_id)
        return [InvoiceLine.of(row, self.currency) for row in rows]

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="CRN-1: the credit notes that correct it, oldest first (billing roles only).",
    )
    async def credit_notes(
        self,
    ) -> list[Annotated[CreditNote, strawberry.lazy("schema.credit_note")]] | None:
        from schema.credit_note import CreditNote

        return [CreditNote.of(row) for row in await invoice_credit_notes(self.invoice_id)]


@strawberry.type
class InvoiceEdge:
    cursor: str
    node: Invoice


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class InvoiceConnection:
    edges: list[InvoiceEdge]
    page_info: PageInfo
    total_count: int


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"invoice:{sequence}".encode()).decode()


def decode_cursor(cursor: str) -> int | None:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(value) if kind == "invoice" else None
    except (ValueError, UnicodeDecodeError):
        return None
