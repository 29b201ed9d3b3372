"""The payment-processor port: what the gateway asks of Stripe or the sandbox, in our own types.

Card details never reach the gateway (PAY-1): cards are collected by the processor's own form
(a setup intent's client secret) and the gateway keeps the processor's ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from billing.disputes import DisputeStatus
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
    customer_id: str | None = None
    reference: str = ""  # the organization's id, kept with the charge at the processor


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


@dataclass(frozen=True)
class ChargeRecord:
    """A charge as the processor remembers it (to find charges the gateway never recorded)."""

    charge_id: str
    idempotency_key: str
    reference: str
    amount: int
    currency: str
    succeeded: bool
    created: datetime


@dataclass(frozen=True)
class SetupIntent:
    id: str
    client_secret: str


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int


@dataclass(frozen=True)
class RefundReport:
    """A refund the processor lists on a charge (made through the gateway or in its dashboard)."""

    id: str
    amount: int


@dataclass(frozen=True)
class DisputeReport:
    """A dispute (chargeback) as the processor reports it, its status in our words."""

    id: str
    amount: int
    currency: str
    reason: str
    status: DisputeStatus
    created: datetime | None = None


@dataclass(frozen=True)
class ProcessorEvent:
    """A webhook event, verified: what happened to which charge.

    `charge_id` is the id the gateway keeps for the payment (Payment.processor_charge_id): a
    payment intent's for Stripe, also on events about the intent's charge or its dispute."""

    id: str
    type: str  # payment_succeeded, payment_failed, payment_requires_action, charge_refunded,
    # dispute_created, dispute_updated, dispute_closed, or the processor's own
    charge_id: str | None
    failure_code: str | None = None
    # charge_refunded: what the processor has refunded of the charge in all, and its refunds.
    amount_refunded: int | None = None
    refunds: tuple[RefundReport, ...] = ()
    # dispute_*: the dispute.
    dispute: DisputeReport | None = None


class PaymentMethodError(BillingError):
    """PAY-3: a card that cannot be used, with the reason."""


class ProcessorUnavailableError(BillingError):
    """PAY-3: the processor did not answer or failed; nothing was charged; retry later."""


class WebhookSignatureError(Exception):
    pass


class PaymentProcessor(Protocol):
    async def create_customer(self, reference: str, name: str) -> str: ...

    async def create_setup_intent(self, customer_id: str) -> SetupIntent: ...

    async def attach_payment_method(
        self, customer_id: str, payment_method_id: str
    ) -> CardDetails: ...

    async def detach_payment_method(self, payment_method_id: str) -> None: ...

    async def charge(self, request: ChargeRequest) -> ChargeResult: ...

    async def refund(self, charge_id: str, amount: int, idempotency_key: str) -> Refund: ...

    async def recent_charges(self, since: datetime) -> list[ChargeRecord]: ...

    def parse_webhook(self, payload: bytes, signature: str | None) -> ProcessorEvent: ...


DECLINE_REASONS = {
    "card_declined": "The card was declined by the bank",
    "insufficient_funds": "The card was declined: insufficient funds",
    "expired_card": "The card has expired",
    "incorrect_cvc": "The card's security code is incorrect",
    "invalid_payment_method": "The card is not valid",
    "authentication_failed": "The customer's authentication (3-D Secure) failed",
    "no_payment_method": "There is no payment method on file",
}
