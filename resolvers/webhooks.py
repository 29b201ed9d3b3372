"""Processor webhooks (PAY, CHG-5): each event applied once, whatever the replays and the order."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from billing.clock import offset
from models import Invoice, Payment, ProcessedEvent
from payments.port import ChargeStatus, PaymentProcessor, ProcessorEvent
from resolvers.invoice_payments import AUTHENTICATION_FAILED, PAYABLE, finish_waiting_payment
from resolvers.locks import lock_organization
from resolvers.processor_events import DISPUTE_TYPES, REFUND_TYPES, apply_processor_money

APPLIED_TYPES = ("payment_succeeded", "payment_failed")
MONEY_TYPES = REFUND_TYPES + DISPUTE_TYPES  # the processor's word: resolvers/processor_events.py


class NotYetKnown(Exception):
    """The event names a charge the gateway has not recorded yet (its own write is still on the
    way): the processor should deliver it again later."""


async def handle_event(
    event: ProcessorEvent, base_now: datetime, processor: PaymentProcessor
) -> str:
    async with in_transaction():
        if await ProcessedEvent.exists(id=event.id):
            return "duplicate"
        outcome = await _apply(event, base_now, processor)
        await ProcessedEvent.create(
            id=event.id, type=event.type, outcome=outcome, received_at=base_now
        )
        return outcome


async def _apply(event: ProcessorEvent, base_now: datetime, processor: PaymentProcessor) -> str:
    if event.type in MONEY_TYPES:
        return await apply_processor_money(event, base_now)
    if event.type not in APPLIED_TYPES or not event.charge_id:
        return "ignored"
    payment = await Payment.filter(processor_charge_id=event.charge_id).first()
    if payment is None:
        raise NotYetKnown(event.charge_id)
    invoice = await Invoice.get(id=payment.invoice_id)
    organization = await lock_organization(invoice.organization_id)
    payment = await Payment.filter(id=payment.id).select_for_update().get()
    invoice = await Invoice.filter(id=invoice.id).select_for_update().get()
    succeeded = event.type == "payment_succeeded"
    if not succeeded and event.failure_code == "authentication_required":
        return "waiting for the customer"  # Stripe's off-session 3DS: the customer may still pay
    if payment.status == ChargeStatus.SUCCEEDED.value:
        return "already succeeded"  # a replay, or a failure delivered after the success
    if not succeeded:
        if payment.status != ChargeStatus.REQUIRES_ACTION.value:
            return f"already {payment.status.lower()}"
        now = offset(base_now, organization.clock_offset_seconds)
        failure_code = event.failure_code or AUTHENTICATION_FAILED
        await finish_waiting_payment(organization, invoice, payment, failure_code, now)
        return "applied"
    if invoice.status not in PAYABLE:
        # Paid after the invoice was settled or voided (another card, the period moved on):
        # the money goes back rather than being taken twice.
        await processor.refund(event.charge_id, payment.amount, f"late:{event.charge_id}")
        payment.status = "REFUNDED"
        await payment.save(update_fields=["status"])
        return "refunded: the invoice was no longer payable"
    now = offset(base_now, organization.clock_offset_seconds)
    await finish_waiting_payment(organization, invoice, payment, None, now)
    return "applied"
