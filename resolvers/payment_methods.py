"""Payment methods: the processor's ids, brand, last four digits and expiry only (PAY-1)."""

from __future__ import annotations

import logging
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.errors import BillingError
from models import Organization, PaymentMethod
from payments.port import PaymentProcessor, SetupIntent
from resolvers.locks import lock_organization

log = logging.getLogger("billing_gateway.payment_methods")


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
    organization_id: UUID, payment_method_id: str, processor: PaymentProcessor
) -> PaymentMethod:
    """PAY-2: the new card becomes the default; the old ones are detached and deleted."""
    payment_method_id = payment_method_id.strip()
    if not payment_method_id:
        raise BillingError(
            "Give the payment method id the processor's card form returned.",
            field="paymentMethodId",
        )
    organization = await Organization.get(id=organization_id)
    card = await processor.attach_payment_method(
        await customer_id(organization, processor), payment_method_id
    )
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
    for previous in old:
        try:
            await processor.detach_payment_method(previous.processor_id)
        except BillingError:  # deleted here already; the processor forgets it on a later retry
            log.warning("could not detach %s", previous.processor_id)
    return method
