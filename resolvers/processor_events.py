"""The processor's word on money the gateway did not move itself (INV-5): refunds made in the
processor's dashboard (charge_refunded) and disputes (dispute_created, _updated, _closed).
Called by resolvers/webhooks.py inside the event's transaction; each applies once whatever the
redeliveries: a refund is known by its processor id, a dispute by its own, and a lost dispute's
refund by the dispute's id."""

from __future__ import annotations

import logging
from datetime import datetime

from billing.clock import offset
from billing.disputes import DisputeStatus, amount_taken, dispute_move
from billing.invoices import InvoiceStatus
from billing.money import Money
from billing.notifications import NotificationKind
from billing.webhooks import EventType
from models import Dispute, Invoice, Payment, Refund
from payments.port import ChargeStatus, DisputeReport, ProcessorEvent, RefundReport
from resolvers.locks import lock_organization
from resolvers.notices import notify
from resolvers.refunds import record_refund
from resolvers.webhook_events import invoice_event

log = logging.getLogger("billing_gateway.webhooks")

REFUND_TYPES = ("charge_refunded",)
DISPUTE_TYPES = ("dispute_created", "dispute_updated", "dispute_closed")
REFUNDABLE = (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED)
DISPUTE_LOST_REASON = "dispute lost"


async def apply_processor_money(event: ProcessorEvent, base_now: datetime) -> str:
    """The outcome, in words; an event about a charge the gateway never made is acknowledged and
    ignored (the processor account may serve other systems too)."""
    found = await _paid(event)
    if found is None:
        log.warning(
            "processor event %s (%s) names charge %r, no payment the gateway made: ignored",
            event.id,
            event.type,
            event.charge_id,
        )
        return "ignored: unknown charge"
    payment, invoice = found
    organization = await lock_organization(invoice.organization_id)
    invoice = await Invoice.filter(id=invoice.id).select_for_update().get()
    now = offset(base_now, organization.clock_offset_seconds)
    if event.type in REFUND_TYPES:
        return await _refunded(event, payment, invoice, now)
    if event.dispute is None:  # the adapter always reads one; nothing to record without it
        return "ignored: no dispute in the event"
    return await _disputed(event.dispute, payment, invoice, now)


async def _paid(event: ProcessorEvent) -> tuple[Payment, Invoice] | None:
    if not event.charge_id:
        return None
    payment = await Payment.filter(
        processor_charge_id=event.charge_id, status=ChargeStatus.SUCCEEDED.value
    ).first()
    if payment is None:
        return None
    return payment, await Invoice.get(id=payment.invoice_id)


async def _left(payment: Payment, invoice: Invoice) -> tuple[int, list[Refund]]:
    refunds = await Refund.filter(invoice_id=invoice.id)
    return payment.amount - sum(r.amount for r in refunds), refunds


async def _refunded(
    event: ProcessorEvent, payment: Payment, invoice: Invoice, now: datetime
) -> str:
    """Records the refunds the processor lists that the gateway does not know, so that what the
    gateway counts as refunded to the card reaches the processor's cumulative amount_refunded
    (never beyond: a refund the gateway recorded from an earlier event without its id is not
    counted twice); what the list does not explain is recorded under the charge's cumulative
    figure."""
    left, refunds = await _left(payment, invoice)
    known = {r.processor_refund_id for r in refunds}
    disputes = {d.processor_dispute_id for d in await Dispute.filter(invoice_id=invoice.id)}
    # What the processor counts in amount_refunded: refunds, not the money disputes took.
    counted = sum(r.amount for r in refunds if r.processor_refund_id not in disputes)
    target = event.amount_refunded if event.amount_refunded is not None else counted
    fallback = f"{event.charge_id}:refunded:{target}"
    wanted = [r for r in event.refunds if r.id not in known]
    if counted < target and fallback not in known:
        wanted.append(RefundReport(fallback, target))  # capped below to what is unexplained
    recorded: list[str] = []
    for report in wanted:
        amount = min(report.amount, target - counted, left)
        if amount <= 0 or invoice.status not in REFUNDABLE:
            continue
        await record_refund(invoice, amount, left, report.id, "refunded at the processor", now)
        counted += amount
        left -= amount
        recorded.append(Money(amount, invoice.currency).formatted())
    if not recorded:
        return "already recorded"
    return f"refund recorded: {', '.join(recorded)}"


async def _disputed(
    report: DisputeReport, payment: Payment, invoice: Invoice, now: datetime
) -> str:
    row = await Dispute.filter(processor_dispute_id=report.id).select_for_update().first()
    move = dispute_move(row.status if row is not None else None, report.status)
    if not move.changed:
        return "already recorded"
    if row is None:
        row = await Dispute.create(
            invoice=invoice,
            processor_dispute_id=report.id,
            amount=report.amount,
            currency=report.currency or invoice.currency,
            reason=report.reason,
            status=move.status,
            opened_at=now,
        )
    row.status = move.status
    if move.closes:
        row.closed_at = now
    await row.save(update_fields=["status", "closed_at"])
    figure = Money(row.amount, row.currency).formatted()
    outcomes = []
    if move.opened:
        await notify(
            invoice.organization_id,
            NotificationKind.DISPUTE_OPENED,
            f"The payment of invoice {invoice.number} is disputed for {figure}"
            f"{_because(row.reason)}. Answer the dispute in the payment processor's dashboard.",
            now,
            invoice_id=invoice.id,
        )
        await invoice_event(invoice, EventType.INVOICE_DISPUTE_CREATED, now, **_data(row))
        outcomes.append("dispute recorded")
    if move.closes:
        outcomes.append(await _closed(row, payment, invoice, move.takes_money, now))
    return "; ".join(outcomes) or f"dispute {row.status.value.lower()}"


async def _closed(
    row: Dispute, payment: Payment, invoice: Invoice, takes_money: bool, now: datetime
) -> str:
    taken = 0
    if takes_money:
        left, refunds = await _left(payment, invoice)
        taken = amount_taken(row.amount, left)
        known = {r.processor_refund_id for r in refunds}
        if taken and row.processor_dispute_id not in known and invoice.status in REFUNDABLE:
            await record_refund(
                invoice, taken, left, row.processor_dispute_id, DISPUTE_LOST_REASON, now
            )
        else:
            taken = 0
    money = Money(taken, invoice.currency).formatted()
    said = {
        DisputeStatus.WON: "was won: the payment stands",
        DisputeStatus.LOST: f"was lost: {money} went back to the cardholder",
        DisputeStatus.CLOSED: "was closed without a chargeback: the payment stands",
    }[row.status]
    await notify(
        invoice.organization_id,
        NotificationKind.DISPUTE_CLOSED,
        f"The dispute on invoice {invoice.number} {said}.",
        now,
        invoice_id=invoice.id,
    )
    await invoice_event(
        invoice, EventType.INVOICE_DISPUTE_CLOSED, now, **_data(row), amount_taken=taken
    )
    return f"dispute {row.status.value.lower()}: {money} taken"


def _because(reason: str) -> str:
    return f" ({reason.replace('_', ' ')})" if reason else ""


def _data(row: Dispute) -> dict[str, str | int | None]:
    return {
        "dispute_id": row.processor_dispute_id,
        "dispute_amount": row.amount,
        "dispute_reason": row.reason,
        "dispute_status": row.status.value,
    }
