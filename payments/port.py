"""The payment-processor port: what the gateway asks of Stripe or the sandbox, in our own types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from billing.errors import BillingError


class ChargeStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    REQUIRES_ACTION = "REQUIRES_ACTION"  # 3-D Secure: the customer must authenticate (CHG-5)
    FAILED = "FAILED"


@dataclass(frozen=True)
class ChargeRequest:
    payment_method_id: str
    amount: int
    currency: str
    idempotency_key: str  # the same key never charges twice
    description: str


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    charge_id: str
    failure_code: str | None = None
    failure_message: str | None = None
    client_secret: str | None = None


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class PaymentMethodError(BillingError):
    """PAY-3: a card that cannot be used, with the reason."""


class PaymentProcessor(Protocol):
    async def charge(self, request: ChargeRequest) -> ChargeResult: ...

    async def card_details(self, payment_method_id: str) -> CardDetails: ...
