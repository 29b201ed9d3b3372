"""Staff actions for the SaaS's support and finance staff, through an API key of scope
billing:operate bound to the organization acted on (a platform key may carry the scope once
platform keys exist). Each is a trusted document in operations/."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from billing.errors import BillingError
from billing.invoices import InvoiceStatus
from resolvers import staff
from resolvers.organization_reads import subscription_of
from schema.audit import actor_of
from schema.common import Money
from schema.context import Info
from schema.invoice import Invoice
from schema.permissions import CanOperateBilling, IsCaller
from schema.plan_change import UserError
from schema.subscription import Subscription
from schema.user_errors import user_error


@strawberry.type(description="INT-3: the credit balance after the grant.")
class CreditGranted:
    credit_balance: Money


@strawberry.type
class TrialExtended:
    trial_ends_at: datetime
    subscription: Subscription


@strawberry.type(description="INV-1: the invoice, now UNCOLLECTIBLE or VOID.")
class InvoiceClosed:
    invoice: Invoice


@strawberry.type(
    description="DUN-4: the invoice is paid; the status restored if nothing is overdue."
)
class OfflinePaymentRecorded:
    invoice: Invoice
    subscription: Subscription | None


GrantCreditResult = Annotated[CreditGranted | UserError, strawberry.union("GrantCreditResult")]
ExtendTrialResult = Annotated[TrialExtended | UserError, strawberry.union("ExtendTrialResult")]
CloseInvoiceResult = Annotated[InvoiceClosed | UserError, strawberry.union("CloseInvoiceResult")]
OfflinePaymentResult = Annotated[
    OfflinePaymentRecorded | UserError, strawberry.union("OfflinePaymentResult")
]
STAFF = [IsCaller, CanOperateBilling]


@strawberry.type
class StaffMutation:
    @strawberry.mutation(
        permission_classes=STAFF, description="INT-3: adds `amount` minor units of credit."
    )
    async def grant_credit(self, info: Info, amount: int, reason: str) -> GrantCreditResult:
        context = info.context
        key = context.api_key
        assert key is not None and key.organization_id is not None  # CanOperateBilling
        try:
            balance, currency = await staff.grant_credit(
                key.organization_id, amount, reason, actor_of(context), context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        return CreditGranted(credit_balance=Money.of(balance, currency))

    @strawberry.mutation(permission_classes=STAFF, description="Only while TRIALING.")
    async def extend_trial(self, info: Info, days: int) -> ExtendTrialResult:
        context = info.context
        key = context.api_key
        assert key is not None and key.organization_id is not None  # CanOperateBilling
        try:
            row = await staff.extend_trial(
                key.organization_id, days, actor_of(context), context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        assert row.trial_ends_at is not None
        return TrialExtended(trial_ends_at=row.trial_ends_at, subscription=Subscription.of(row))

    @strawberry.mutation(
        permission_classes=STAFF, description="INV-1: still owed, no longer chased."
    )
    async def mark_invoice_uncollectible(
        self, info: Info, invoice_id: strawberry.ID, reason: str
    ) -> CloseInvoiceResult:
        return await _close(info, invoice_id, InvoiceStatus.UNCOLLECTIBLE, reason)

    @strawberry.mutation(
        permission_classes=STAFF, description="INV-1: cancelled; only if nothing was paid on it."
    )
    async def void_invoice(
        self, info: Info, invoice_id: strawberry.ID, reason: str
    ) -> CloseInvoiceResult:
        return await _close(info, invoice_id, InvoiceStatus.VOID, reason)

    @strawberry.mutation(
        permission_classes=STAFF,
        description="DUN-4: a bank transfer (or CHECK, CASH) of the whole amount due pays the "
        "invoice, as payInvoice does.",
    )
    async def record_offline_payment(
        self,
        info: Info,
        invoice_id: strawberry.ID,
        amount: int,
        reference: str,
        method: str = "BANK_TRANSFER",
    ) -> OfflinePaymentResult:
        context = info.context
        key = context.api_key
        assert key is not None and key.organization_id is not None  # CanOperateBilling
        asked = staff.OfflinePaymentAsked(str(invoice_id), amount, reference, method)
        try:
            row = await staff.record_offline_payment(
                key.organization_id, asked, actor_of(context), context.clock.now()
            )
        except BillingError as error:
            return user_error(error)
        subscription = await subscription_of(key.organization_id)
        return OfflinePaymentRecorded(
            invoice=Invoice.of(row),
            subscription=Subscription.of(subscription) if subscription else None,
        )


async def _close(
    info: Info, invoice_id: strawberry.ID, status: InvoiceStatus, reason: str
) -> CloseInvoiceResult:
    context = info.context
    key = context.api_key
    assert key is not None and key.organization_id is not None  # CanOperateBilling
    asked = staff.InvoiceClosing(str(invoice_id), status, reason)
    try:
        row = await staff.close_invoice(
            key.organization_id, asked, actor_of(context), context.clock.now()
        )
    except BillingError as error:
        return user_error(error)
    return InvoiceClosed(invoice=Invoice.of(row))
