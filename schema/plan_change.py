"""Previews and the results of changing a plan (CHG-1 to CHG-11)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from billing import quote
from billing.errors import BillingError
from billing.periods import BillingInterval
from billing.tax import line_total, lines_total, summary
from models import AccountChangeRequest as AccountChangeRequestRow
from resolvers.subscription_state import UNSET, ChangeRequest
from schema.common import Money
from schema.credit_note import CreditNote, CreditNotePreview
from schema.invoice import Invoice
from schema.subscription import Subscription
from schema.tax import TaxRate, TaxSummary

strawberry.enum(quote.ChangeKind)
strawberry.enum(quote.BlockerCode, description="What must be resolved before a change (CHG-1).")
strawberry.enum(quote.ChangeTiming, description="When the change takes effect.")


@strawberry.input(
    description="The wanted state of one product line; fields left out stay as they are."
)
class PlanChangeInput:
    product: str
    plan: str | None = None
    bundle: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A bundle's code (CAT-5); null for the product's own plans.",
    )
    billing_interval: BillingInterval | None = None
    seats: int | None = None
    contact_limit: int | None = None
    add_ons: list[str] | None = None

    def to_request(self) -> ChangeRequest:
        return ChangeRequest(
            product=self.product,
            plan=self.plan,
            bundle=UNSET if self.bundle is strawberry.UNSET else self.bundle,
            billing_interval=self.billing_interval,
            seats=self.seats,
            contact_limit=self.contact_limit,
            add_ons=self.add_ons,
        )


PROMOTION_CODE = strawberry.argument(
    description="DSC-1: a promotion code (case-insensitive) applied with this change."
)


@strawberry.type
class PreviewLine:
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


@strawberry.type(description="Something to resolve before the change can be applied (CHG-1).")
class Blocker:
    code: quote.BlockerCode
    message: str


@strawberry.type
class PlanChangePreview:
    kind: quote.ChangeKind
    timing: quote.ChangeTiming
    amount_due_now: Money
    lines: list[PreviewLine]
    total: Money = strawberry.field(
        description="The sum of the rounded lines after their discounts, with their taxes (MNY-2, "
        "DSC-2, TAX-1)."
    )
    discount_total: Money = strawberry.field(description="The sum of the lines' discounts.")
    tax: TaxSummary = strawberry.field(description="TAX-1: taxable amount and tax per rate.")
    credit_applied: Money = strawberry.field(description="From the credit balance (INT-3).")
    credit_balance_after: Money
    recurring_amount: Money = strawberry.field(description="Per period from the next period on.")
    effective_at: datetime
    next_billing_date: datetime | None
    features_lost: list[str]
    blockers: list[Blocker]
    replaces_scheduled_change: bool = strawberry.field(
        description="CHG-6: applying it replaces the change scheduled for this product line."
    )
    notes: list[str] = strawberry.field(
        description="What applying it also does, in words a person reads: the scheduled "
        "downgrade it replaces (CHG-6)."
    )
    credit_note: CreditNotePreview | None = strawberry.field(
        description="CRN-1: the credit note applying it issues for the credit its charges do not "
        "use (added to the credit balance); null when the invoice keeps all the credit."
    )

    @classmethod
    def of(cls, q: quote.Quote) -> PlanChangePreview:
        def money(amount: int) -> Money:
            return Money.of(amount, q.currency)

        issued = q.issued  # CRN-1: what applying it issues, invoice and credit note
        return cls(
            kind=q.kind,
            timing=q.timing,
            amount_due_now=money(q.amount_due_now),
            lines=[
                PreviewLine(
                    description=line.description,
                    amount=money(line.amount),
                    discount=money(line.discount),
                    period_start=line.period_start,
                    period_end=line.period_end,
                    tax=money(line.tax),
                    tax_rate=TaxRate.of(line.tax_rate) if line.tax_rate else None,
                    total=money(line_total(line)),
                )
                for line in issued.invoice_lines
            ],
            total=money(lines_total(issued.invoice_lines)),
            discount_total=money(q.discount_total),
            tax=TaxSummary.of(summary(issued.invoice_lines), q.currency),
            credit_applied=money(q.credit_applied),
            credit_balance_after=money(q.credit_balance_after),
            recurring_amount=money(q.recurring_amount),
            effective_at=q.effective_at,
            next_billing_date=q.next_billing_date,
            features_lost=list(q.features_lost),
            blockers=[Blocker(code=b.code, message=b.message) for b in q.blockers],
            replaces_scheduled_change=q.replaces_scheduled_change,
            notes=list(q.notes),
            credit_note=CreditNotePreview.of(issued.credit_lines, q.currency)
            if issued.credit_lines
            else None,
        )


@strawberry.type
class UserError:
    code: str
    message: str
    field: str | None

    @classmethod
    def of(cls, error: BillingError) -> UserError:
        return cls(code=error.user_code, message=error.message, field=error.field)


# A field the members of PlanChangeResult share has one type (GraphQL's overlapping-fields
# rule): `preview` is nullable on every member because PaymentActionRequired also answers
# payInvoice, where there is no change to preview. A plan change always sets it.
PREVIEW_DESCRIPTION = "The change; always set on a plan change, null only when paying an invoice."


@strawberry.type
class PlanChangeApplied:
    preview: PlanChangePreview | None = strawberry.field(description=PREVIEW_DESCRIPTION)
    invoice: Invoice | None
    subscription: Subscription


@strawberry.type(
    description="An END_OF_PERIOD downgrade: the subscription is DOWNGRADING until then."
)
class PlanChangeScheduled:
    preview: PlanChangePreview | None = strawberry.field(description=PREVIEW_DESCRIPTION)
    effective_at: datetime
    subscription: Subscription


@strawberry.type(
    description="The payment needs 3-D Secure; the plan stays until it succeeds (CHG-5)."
)
class PaymentActionRequired:
    client_secret: str
    invoice: Invoice
    preview: PlanChangePreview | None = strawberry.field(description=PREVIEW_DESCRIPTION)


@strawberry.type
class AccountChangeRequest:
    id: strawberry.ID
    message: str
    status: str
    created_at: datetime

    @classmethod
    def of(cls, row: AccountChangeRequestRow) -> AccountChangeRequest:
        return cls(
            id=strawberry.ID(str(row.id)),
            message=row.message,
            status=row.status,
            created_at=row.created_at,
        )


@strawberry.type(description="CHG-8: recorded for staff to act on; nothing changes until then.")
class AccountChangeRequested:
    request: AccountChangeRequest


@strawberry.type
class SubscriptionCancelled:
    subscription: Subscription
    cancel_at: datetime


@strawberry.type
class SubscriptionReactivated:
    subscription: Subscription


@strawberry.type
class TestClock:
    now: datetime
    events: list[str]


PlanChangeResult = Annotated[
    PlanChangeApplied
    | PlanChangeScheduled
    | PaymentActionRequired
    | AccountChangeRequested
    | UserError,
    strawberry.union("PlanChangeResult"),
]
CancelResult = Annotated[SubscriptionCancelled | UserError, strawberry.union("CancelResult")]
ReactivateResult = Annotated[
    SubscriptionReactivated | UserError, strawberry.union("ReactivateResult")
]
AccountChangeRequestResult = Annotated[
    AccountChangeRequested | UserError, strawberry.union("AccountChangeRequestResult")
]


@strawberry.type
class InvoicePaid:
    invoice: Invoice
    subscription: Subscription | None


@strawberry.type
class InvoiceRefunded:
    invoice: Invoice
    credit_note: CreditNote = strawberry.field(
        description="CRN-1: the credit note the refund issued, tax at the rates of the lines it "
        "reverses."
    )


RefundResult = Annotated[InvoiceRefunded | UserError, strawberry.union("RefundResult")]


PayInvoiceResult = Annotated[
    InvoicePaid | PaymentActionRequired | UserError, strawberry.union("PayInvoiceResult")
]
