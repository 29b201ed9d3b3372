"""Payment methods: the processor's ids, brand, last four digits and expiry only (PAY-1)."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.cards import card_expired
from billing.clock import offset
from billing.errors import BillingError
from billing.webhooks import EventType
from models import Organization, PaymentMethod
from payments.port import (
    DECLINE_REASONS,
    CardDetails,
    PaymentMethodError,
    PaymentProcessor,
    SetupIntent,
)
from resolvers import audit
from resolvers.dunning import retry_with_new_card
from resolvers.locks import lock_organization
from resolvers.webhook_events import record_event

log = logging.getLogger("billing_gateway.payment_methods")
NAME = "replacePaymentMethod"  # the mutation, as the audit log names it


async def customer_id(organization: Organization, processor: PaymentProcessor) -> str:
    """The organization's customer at the processor, created the first time it is needed."""
    if organization.processor_customer_id is None:
        organization.processor_customer_id = await processor.create_customer(
            str(organization.id), organization.name
        )
        await organization.save(update_fields=["processor_customer_id"])
    return organization.processor_customer_id


async def create_setup_intent(organization_id: UUID, processor: PaymentProcessor) -> SetupIntent:
    organization = await Organization.get(id=organization_id)
    return await processor.create_setup_intent(await customer_id(organization, processor))


async def replace_payment_method(
    organization_id: UUID,
    payment_method_id: str,
    base_now: datetime,
    processor: PaymentProcessor,
    actor: audit.Actor,
) -> PaymentMethod:
    """PAY-2: the new card becomes the default; the old ones are detached and deleted. A card
    that cannot be used is refused first and the old card stays (PAY-3). Overdue invoices are
    charged to the new card at once (DUN-6).

    Audited in the transaction that swaps the cards, not in one around the whole call (as the
    other billing mutations are, schema/audit.py): the processor's calls around it must not
    hold a transaction (on SQLite, every other request of the process would wait on them)."""
    payment_method_id = payment_method_id.strip()
    if not payment_method_id:
        raise BillingError(
            "Give the payment method id the processor's card form returned.",
            field="paymentMethodId",
        )
    organization = await Organization.get(id=organization_id)
    now = offset(base_now, organization.clock_offset_seconds)
    card = await processor.attach_payment_method(
        await customer_id(organization, processor), payment_method_id
    )
    if card_expired(card.exp_year, card.exp_month, now):
        await _detach(card.payment_method_id, processor)
        raise PaymentMethodError(
            f"{DECLINE_REASONS['expired_card']}.",  # the words Stripe's own refusal maps to
            field="paymentMethodId",
            reason="EXPIRED_CARD",
        )
    method, old = await _make_default(organization_id, card, now, actor)
    for previous in old:
        await _detach(previous.processor_id, processor)
    await _retry_overdue(organization_id, base_now, processor)
    return method


async def _make_default(
    organization_id: UUID, card: CardDetails, now: datetime, actor: audit.Actor
) -> tuple[PaymentMethod, list[PaymentMethod]]:
    """The card becomes the only one on file; the ones it replaces are returned to detach."""
    async with in_transaction():
        await lock_organization(organization_id)
        old = await PaymentMethod.filter(organization_id=organization_id).exclude(
            processor_id=card.payment_method_id
        )
        await PaymentMethod.filter(organization_id=organization_id).delete()
        method = await PaymentMethod.create(
            organization_id=organization_id,
            processor_id=card.payment_method_id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            is_default=True,
        )
        card_data = {"brand": card.brand, "last4": card.last4}
        expiry = {"exp_month": card.exp_month, "exp_year": card.exp_year}
        data = {"payment_method": {"id": str(method.id), **card_data, **expiry}}
        await record_event(organization_id, EventType.PAYMENT_METHOD_UPDATED, data, now)
        outcome = "PaymentMethodReplaced"
        details = {"payment_method_id": card.payment_method_id, "outcome": outcome}
        action = audit.Action(NAME, f"{NAME}: {outcome}", None, details)
        await audit.record(organization_id, actor, action, now)
    return method, old


async def _retry_overdue(
    organization_id: UUID, base_now: datetime, processor: PaymentProcessor
) -> None:
    # DUN-6: at once with the new card. The card is kept whatever happens here; a processor that
    # is down leaves the retry to the billing clock's next retry day.
    try:
        async with in_transaction():
            organization = await lock_organization(organization_id)
            now = offset(base_now, organization.clock_offset_seconds)
            await retry_with_new_card(organization, now, processor)
    except BillingError as error:
        log.warning("retry with the new card postponed: %s", error.message)


async def _detach(processor_id: str, processor: PaymentProcessor) -> None:
    try:
        await processor.detach_payment_method(processor_id)
    except BillingError:  # deleted here already; the processor forgets it on a later retry
        log.warning("could not detach %s", processor_id)
