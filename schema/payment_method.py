"""Payment methods as clients see them (PAY-1): never card numbers."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import PaymentMethod as PaymentMethodRow
from payments.sandbox import CardOutcome, SandboxProcessor, sandbox_cards
from schema.context import Info
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


strawberry.enum(
    CardOutcome,
    name="TestCardOutcome",
    description="What a sandbox test card does when it is charged or attached.",
)


@strawberry.type(name="TestCard", description="A sandbox test payment method (demo-catalog.md).")
class SandboxTestCard:
    payment_method_id: str = strawberry.field(description="Give it to replacePaymentMethod.")
    brand: str
    last4: str
    outcome: CardOutcome


@strawberry.type(
    description="Hand the client secret to the processor's card form (Stripe Elements)."
)
class SetupIntent:
    id: str
    client_secret: str

    @strawberry.field(
        description=(
            "Sandbox processor only: the test cards to choose from instead of a card form "
            "(PAY-2); null with Stripe, whose form the client secret opens."
        )
    )
    def test_cards(self, info: Info) -> list[SandboxTestCard] | None:
        if not isinstance(info.context.processor, SandboxProcessor):
            return None
        return [
            SandboxTestCard(
                payment_method_id=c.payment_method_id,
                brand=c.brand,
                last4=c.last4,
                outcome=c.outcome,
            )
            for c in sandbox_cards()
        ]


@strawberry.type
class PaymentMethodReplaced:
    payment_method: PaymentMethod


PaymentMethodResult = Annotated[
    PaymentMethodReplaced | UserError, strawberry.union("PaymentMethodResult")
]
