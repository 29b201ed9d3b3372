"""Payment methods as clients see them (PAY-1): never card numbers."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import PaymentMethod as PaymentMethodRow
from schema.plan_change import UserError


@strawberry.type
class PaymentMethod:
    id: strawberry.ID
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool

    @classmethod
    def of(cls, row: PaymentMethodRow) -> PaymentMethod:
        return cls(
            id=strawberry.ID(str(row.id)),
            brand=row.brand,
            last4=row.last4,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            is_default=row.is_default,
        )


@strawberry.type(
    description="Hand the client secret to the processor's card form (Stripe Elements)."
)
class SetupIntent:
    id: str
    client_secret: str


@strawberry.type
class PaymentMethodReplaced:
    payment_method: PaymentMethod


PaymentMethodResult = Annotated[
    PaymentMethodReplaced | UserError, strawberry.union("PaymentMethodResult")
]
