"""Paying invoices now (DUN-4), finishing payments that waited for the customer (CHG-5), and
what a failed card payment sets off (DUN-2, DUN-5)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.errors import BillingError
from billing.invoices import InvoiceStatus, invoice_transition
from billing.notifications import NotificationKind
from billing.periods import BillingInterval
from billing.quote import STARTS_A_PAID_PERIOD
from billing.scheduled_change import has_downgrade
from billing.subscription_status import Event, SubscriptionStatus, transition
from billing.webhooks import EventType
from models import Invoice, Organization, Payment, Subscription
from payments.port import DECLINE_REASONS, ChargeStatus, PaymentProcessor
from resolvers.catalog import load_catalog_snapshot
from resolvers.invoicing import (
    collect,
    default_payment_method,
    locked_invoice,
    mark_paid,
    overdue_invoices,
)
from resolvers.locks import lock_organization
from resolvers.notices import notify
from resolvers.scheduled_changes import (
    drop_replaced_downgrade,
    schedule_interval_switch,
    scheduled_changes_of,
)
from resolvers.subscription_state import ItemTerms, load_subscription
from resolvers.subscription_writes import (
    replace_cancelled_subscription,
    sync_feature_settings,
    write_item,
)
from resolvers.webhook_events import invoice_event, plan_change_event, status_changed

PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE)


@dataclass(frozen=True)
class InvoicePaid:
    invoice: Invoice


@dataclass(frozen=True)
class InvoiceActionRequired:
    invoice: Invoice
    client_secret: str


async def card_failed(
    organization: Organization, reason: str, now: datetime, invoice: Invoice | None = None
) -> None:
    # DUN-5: automatic upgrades and flexible overage stop until a billing manager restarts them
    # with another valid card; the card that failed (the default one) is remembered.
    card = await default_payment_method(organization.id)
    organization.automatic_charges_paused = True
    organization.automatic_charges_pause_reason = reason[:300]
    organization.failed_payment_method_id = card.processor_id if card else None
    await organization.save(
        update_fields=[
            "automatic_charges_paused",
            "automatic_charges_pause_reason",
            "failed_payment_method_id",
        ]
    )
    invoice_id = invoice.id if invoice is not None else None
    await notify(
        organization.id, NotificationKind.PAYMENT_FAILED, reason, now, invoice_id=invoice_id
    )
    if invoice is not None:
        await invoice_event(invoice, EventType.INVOICE_PAYMENT_FAILED, now, reason=reason)


async def pay_invoice(
    organization_id: UUID, invoice_id: str, base_now: datetime, processor: PaymentProcessor
) -> InvoicePaid | InvoiceActionRequired:
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        invoice = await locked_invoice(organization_id, invoice_id)
        if invoice.status not in PAYABLE:
            raise BillingError(
                f"Invoice {invoice.number} is {invoice.status.value}: there is nothing to pay."
            )
        if await Payment.exists(invoice_id=invoice.id, status=ChargeStatus.REQUIRES_ACTION.value):
            raise BillingError(
                f"A payment of {invoice.number} waits for the customer's authentication: "
                "complete it first.",
                reason="PAYMENT_WAITING",
            )
        result = await collect(invoice, processor, now)
        if result is not None and result.status is ChargeStatus.REQUIRES_ACTION:
            return InvoiceActionRequired(invoice, result.client_secret or "")
        if result is not None and result.status is ChargeStatus.FAILED:
            reason = result.failure_message or result.failure_code or "The payment failed."
            await card_failed(
                organization, f"Paying {invoice.number} failed: {reason}", now, invoice
            )
            failure = f"{reason} {invoice.number} is still open: use another card and pay again."
            failed = BillingError(failure, reason="PAYMENT_DECLINED")
        else:
            await settle(organization, invoice, now)
            return InvoicePaid(invoice)
    raise failed  # after the transaction: the failed attempt and the notice are kept


async def complete_payment_action(
    organization_id: UUID, invoice_id: str, succeeded: bool, base_now: datetime
) -> Invoice:
    """The customer finished (or abandoned) authenticating a payment: what Stripe's
    payment_intent.succeeded / payment_failed webhooks tell; the sandbox says it directly.
    A failure is raised after the transaction, so the void invoice and the notice are kept."""
    async with in_transaction():
        organization = await lock_organization(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        invoice = await locked_invoice(organization_id, invoice_id)
        payment = (
            await Payment.filter(invoice_id=invoice.id, status=ChargeStatus.REQUIRES_ACTION.value)
            .order_by("-created_at")
            .first()
        )
        if payment is None or invoice.status not in PAYABLE:
            raise BillingError(
                f"No payment of invoice {invoice.number} is waiting for the customer."
            )
        failure = await finish_waiting_payment(
            organization, invoice, payment, None if succeeded else AUTHENTICATION_FAILED, now
        )
    if failure is not None:
        raise failure
    return invoice


AUTHENTICATION_FAILED = "authentication_failed"


async def finish_waiting_payment(
    organization: Organization,
    invoice: Invoice,
    payment: Payment,
    failure_code: str | None,
    now: datetime,
) -> BillingError | None:
    """A payment that waited for the customer ends: paid (no failure code), or failed, which is
    returned for the caller to report once its transaction is committed (PAY-3). The caller
    holds the organization's lock."""
    payment.status = (ChargeStatus.FAILED if failure_code else ChargeStatus.SUCCEEDED).value
    payment.failure_code = failure_code
    await payment.save(update_fields=["status", "failure_code"])
    if failure_code is None:
        await mark_paid(invoice, now)
        await settle(organization, invoice, now)
        return None
    reason = DECLINE_REASONS.get(failure_code, DECLINE_REASONS[AUTHENTICATION_FAILED])
    await card_failed(
        organization, f"{reason}: the payment of {invoice.number} failed.", now, invoice
    )
    outcome = f"{invoice.number} is still open: pay it with another card"
    if invoice.pending_change is not None:
        # CHG-5: the change is not made, so nothing is owed for it: the invoice is void.
        invoice.pending_change = None
        invoice.status = invoice_transition(invoice.status, InvoiceStatus.VOID)
        await invoice.save(update_fields=["pending_change", "status"])
        outcome = f"nothing was changed and {invoice.number} is void: try again or use another card"
    authentication = "authentication" in failure_code
    code = "PAYMENT_AUTHENTICATION_FAILED" if authentication else "PAYMENT_DECLINED"
    return BillingError(f"{reason}: {outcome}.", reason=code)  # PAY-3


async def settle(organization: Organization, invoice: Invoice, now: datetime) -> None:
    """After a payment: apply the change it paid for (once), then restore the status (DUN-4)."""
    row = await Subscription.filter(organization_id=organization.id).select_for_update().first()
    if row is None:
        return
    if invoice.pending_change:
        old = row.status
        await _apply_pending(organization, row, invoice.pending_change)
        invoice.pending_change = None
        await invoice.save(update_fields=["pending_change"])
        # EVT-1: a change paid after the customer's authentication (CHG-5) is applied now.
        applied = await Subscription.get(organization_id=organization.id)
        change = {"invoice_id": str(invoice.id), "timing": "IMMEDIATE"}
        await plan_change_event(applied, EventType.PLAN_CHANGE_APPLIED, change, now)
        await status_changed(applied, old, now, "plan change")
    overdue = await overdue_invoices(organization.id, now).exists()
    if (
        row.status in (SubscriptionStatus.PENDING_PAYMENT, SubscriptionStatus.FROZEN)
        and not overdue
    ):
        downgrade = has_downgrade((await scheduled_changes_of(row.id)).values())
        event = Event.OVERDUE_PAID
        if row.status is SubscriptionStatus.PENDING_PAYMENT and downgrade:
            event = Event.OVERDUE_PAID_WITH_DOWNGRADE_SCHEDULED
        old = row.status
        row.status = transition(row.status, event)
        await row.save()
        await status_changed(row, old, now, "paid")
        await notify(
            organization.id,
            NotificationKind.STATUS_CHANGED,
            f"Payment received: the subscription is {row.status.value}.",
            now,
        )


async def _apply_pending(
    organization: Organization, row: Subscription, pending: dict[str, object]
) -> None:
    snapshot = await load_catalog_snapshot()
    loaded = await load_subscription(organization, snapshot, lock=True)
    assert loaded is not None
    prepaid = pending.get("prepaid")
    assert isinstance(prepaid, dict)
    terms_list = pending.get("terms")
    assert isinstance(terms_list, list)
    all_terms = [ItemTerms.from_json(data) for data in terms_list]
    if row.status is SubscriptionStatus.CANCELLED:
        # SUB-3: subscribing again, paid after authentication: a new subscription row.
        await replace_cancelled_subscription(organization)
        row = Subscription(
            organization=organization, status=row.status, currency=organization.currency
        )
        loaded.items = {}
    # INT-3: the credit the invoice used is spent, whichever way the change is applied.
    organization.credit_balance = int(str(pending["credit_balance_after"]))
    await organization.save(update_fields=["credit_balance"])
    if pending.get("interval_switch"):
        # INT-1 paid after authentication: the longer interval starts at the period end.
        interval = BillingInterval(str(pending["interval"]))
        await schedule_interval_switch(loaded, interval, all_terms)
        return
    if row.status in STARTS_A_PAID_PERIOD:
        row.status = transition(row.status, Event.SUBSCRIBE)
    row.billing_interval = BillingInterval(str(pending["interval"]))
    row.billing_anchor = datetime.fromisoformat(str(pending["anchor"]))
    row.current_period_start = datetime.fromisoformat(str(pending["period_start"]))
    row.current_period_end = datetime.fromisoformat(str(pending["period_end"]))
    await row.save()  # first: a new subscription (SUB-3) must exist before its items
    for terms in all_terms:
        code = snapshot.product(terms.product_id).code
        await write_item(row, loaded.items.get(terms.product_id), terms, int(prepaid.get(code, 0)))
    await sync_feature_settings(organization.id, snapshot, all_terms)
    replaced = pending.get("replaces_scheduled_change_of")
    if isinstance(replaced, int):
        await drop_replaced_downgrade(replace(loaded, row=row), replaced)  # CHG-6
