"""Payment methods: the processor's ids, brand, last four digits and expiry only (PAY-1)."""

from __future__ import annotations

from uuid import UUID

from tortoise.transactions import in_transaction

from models import PaymentMethod
from payments.port import PaymentProcessor


async def replace_payment_method(
    organization_id: UUID, payment_method_id: str, processor: PaymentProcessor
) -> PaymentMethod:
    """PAY-2: the new card becomes the default; the old ones are detached and deleted."""
    card = await processor.card_details(payment_method_id.strip())
    async with in_transaction():
        await PaymentMethod.filter(organization_id=organization_id).delete()
        return await PaymentMethod.create(
            organization_id=organization_id,
            processor_id=card.payment_method_id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            is_default=True,
        )
