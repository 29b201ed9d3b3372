"""Staff actions (scope billing:operate): grant credit (INT-3), extend a trial, mark an invoice
uncollectible or void it (INV-1), record a payment received outside the processor (DUN-4). Each
runs in one transaction with its audit entry, and refuses bad input before changing anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.errors import BillingError
from billing.invoices import InvoiceStatus, invoice_transition
from billing.money import Money
from billing.subscription_status import SubscriptionStatus
from models import Invoice, OfflinePayment, Payment, Subscription
from payments.port import ChargeStatus
from resolvers import audit
from resolvers.invoice_payments import PAYABLE, settle
from resolvers.invoicing import locked_invoice, mark_paid
from resolvers.locks import lock_organization

MAX_CREDIT = 100_000_000  # a million in a two-decimal currency: a typo, not a grant
MAX_TRIAL_EXTENSION_DAYS = 90
OFFLINE_METHODS = frozenset({"BANK_TRANSFER", "CHECK", "CASH"})


@dataclass(frozen=True)
class InvoiceClosing:
    invoice_id: str
    status: InvoiceStatus  # UNCOLLECTIBLE or VOID
    reason: str


@dataclass(frozen=True)
class OfflinePaymentAsked:
    invoice_id: str
    amount: int  # must be what the invoice leaves due: a check against the wrong invoice
    reference: str
    method: str = "BANK_TRANSFER"


def _reason(text: str, name: str = "reason") -> str:
    cleaned = text.strip()
    if not cleaned:
        raise BillingError(f"Give a {name}: it goes into the audit log.", field=name)
    return cleaned[:500]


async def grant_credit(
    organization_id: UUID, amount: int, reason: str, actor: audit.Actor, base_now: datetime
) -> tuple[int, str]:
    """INT-3: adds `amount` minor units to the credit balance; the new balance and currency."""
    if not 1 <= amount <= MAX_CREDIT:
        raise BillingError(
            f"A credit is between 1 and {MAX_CREDIT:,} (minor units), got {amount}.",
            field="amount",
            reason="INVALID_AMOUNT",
        )
    why = _reason(reason)
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        before = organization.credit_balance
        organization.credit_balance = before + amount
        await organization.save(update_fields=["credit_balance"])
        granted = Money(amount, organization.currency).formatted()
        amounts = audit.Amounts(
            "CREDIT_BALANCE", organization.currency, before, organization.credit_balance
        )
        summary = f"Credit of {granted} granted: {why}"
        action = audit.Action("grantCredit", summary, amounts, {"reason": why})
        await audit.record(organization_id, actor, action, now)
        return organization.credit_balance, organization.currency


async def extend_trial(
    organization_id: UUID, days: int, actor: audit.Actor, base_now: datetime
) -> Subscription:
    """Moves the trial's end (and the trial period's end with it) `days` later, while TRIALING."""
    if not 1 <= days <= MAX_TRIAL_EXTENSION_DAYS:
        raise BillingError(
            f"Extend a trial by 1 to {MAX_TRIAL_EXTENSION_DAYS} days, got {days}.",
            field="days",
            reason="INVALID_DAYS",
        )
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        row = await Subscription.filter(organization_id=organization_id).select_for_update().first()
        if row is None or row.status is not SubscriptionStatus.TRIALING or not row.trial_ends_at:
            status = row.status.value if row else "without a subscription"
            raise BillingError(
                f"Only a trial can be extended: the organization is {status}.",
                reason="NOT_TRIALING",
            )
        old_end = row.trial_ends_at
        row.trial_ends_at = old_end + timedelta(days=days)
        if row.current_period_end == old_end:
            row.current_period_end = row.trial_ends_at
        await row.save(update_fields=["trial_ends_at", "current_period_end", "updated_at"])
        summary = f"Trial extended by {days} days, to {row.trial_ends_at.date().isoformat()}."
        details = {"from": old_end.isoformat(), "to": row.trial_ends_at.isoformat()}
        await audit.record(
            organization_id, actor, audit.Action("extendTrial", summary, None, details), now
        )
        return row


async def close_invoice(
    organization_id: UUID, asked: InvoiceClosing, actor: audit.Actor, base_now: datetime
) -> Invoice:
    """INV-1: an open invoice becomes UNCOLLECTIBLE (still owed) or VOID (nothing owed); only an
    invoice nothing was paid on can be void."""
    why = _reason(asked.reason)
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        invoice = await locked_invoice(organization_id, asked.invoice_id)
        before = invoice.status
        if asked.status is InvoiceStatus.VOID:
            await _refuse_void_if_paid(invoice)
            invoice.pending_change = None  # the change it would have paid for is not made
        try:
            invoice.status = invoice_transition(before, asked.status)
        except BillingError as error:
            error.reason = "INVOICE_NOT_OPEN"
            raise
        await invoice.save(update_fields=["status", "pending_change"])
        after_due = 0 if asked.status is InvoiceStatus.VOID else invoice.amount_due
        amounts = audit.Amounts("AMOUNT_DUE", invoice.currency, invoice.amount_due, after_due)
        summary = f"Invoice {invoice.number} {before.value} -> {asked.status.value}: {why}"
        name = "voidInvoice" if asked.status is InvoiceStatus.VOID else "markInvoiceUncollectible"
        details = {"invoice": invoice.number, "reason": why}
        await audit.record(
            organization_id, actor, audit.Action(name, summary, amounts, details), now
        )
        return invoice


async def _refuse_void_if_paid(invoice: Invoice) -> None:
    paid = invoice.credit_applied > 0 or invoice.status is InvoiceStatus.PAID
    paid = paid or await Payment.exists(invoice_id=invoice.id, status=ChargeStatus.SUCCEEDED.value)
    paid = paid or await OfflinePayment.exists(invoice_id=invoice.id)
    if paid:
        raise BillingError(
            f"Invoice {invoice.number} has been paid, in part or whole: it cannot be void "
            "(refund it instead).",
            field="invoiceId",
            reason="INVOICE_PAID",
        )


async def record_offline_payment(
    organization_id: UUID, asked: OfflinePaymentAsked, actor: audit.Actor, base_now: datetime
) -> Invoice:
    """DUN-4: money received outside the processor pays the invoice, settled exactly as payInvoice
    settles one (resolvers.invoice_payments.settle): a paid change is applied, the status
    restored once nothing is overdue."""
    reference = _reason(asked.reference, "reference")[:200]
    if asked.method not in OFFLINE_METHODS:
        raise BillingError(
            f"method is one of {sorted(OFFLINE_METHODS)}, got {asked.method!r}.", field="method"
        )
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        invoice = await locked_invoice(organization_id, asked.invoice_id)
        _check_payable(invoice, asked.amount)
        if await Payment.exists(invoice_id=invoice.id, status=ChargeStatus.REQUIRES_ACTION.value):
            raise BillingError(
                f"A card payment of {invoice.number} waits for the customer's authentication.",
                reason="PAYMENT_WAITING",
            )
        await OfflinePayment.create(
            invoice=invoice,
            method=asked.method,
            reference=reference,
            amount=invoice.amount_due,
            currency=invoice.currency,
            received_at=now,
        )
        await mark_paid(invoice, now)
        await settle(organization, invoice, now)
        status = await Subscription.filter(organization_id=organization_id).first()
        paid = Money(invoice.amount_due, invoice.currency).formatted()
        summary = f"{asked.method} {reference!r} of {paid} recorded: {invoice.number} is PAID."
        details = {
            "invoice": invoice.number,
            "method": asked.method,
            "reference": reference,
            "subscriptionStatus": status.status.value if status else None,
        }
        amounts = audit.Amounts("AMOUNT_DUE", invoice.currency, invoice.amount_due, 0)
        action = audit.Action("recordOfflinePayment", summary, amounts, details)
        await audit.record(organization_id, actor, action, now)
        return invoice


def _check_payable(invoice: Invoice, amount: int) -> None:
    if invoice.status not in PAYABLE:
        raise BillingError(
            f"Invoice {invoice.number} is {invoice.status.value}: only OPEN or UNCOLLECTIBLE "
            "invoices can be paid.",
            field="invoiceId",
            reason="INVOICE_NOT_OPEN",
        )
    if amount != invoice.amount_due:
        due = Money(invoice.amount_due, invoice.currency).formatted()
        raise BillingError(
            f"Invoice {invoice.number} leaves {invoice.amount_due} (minor units, {due}) due; "
            f"got {amount}. Record the whole amount received against the right invoice.",
            field="amount",
            reason="AMOUNT_MISMATCH",
        )
