"""The embedded processor: behaves as Stripe's test mode does for its test payment-method ids.

State lives in the process (like a test-mode account that is reset on restart); charges are
remembered by idempotency key, so a retried request returns the first result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from payments.port import (
    DECLINE_REASONS,
    CardDetails,
    ChargeRecord,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    PaymentMethodError,
    ProcessorEvent,
    Refund,
    SetupIntent,
)
from payments.stripe import event_from_stripe_json, verify_webhook_signature

SANDBOX_WEBHOOK_SECRET = "whsec_sandbox"


@dataclass(frozen=True)
class _TestCard:
    brand: str
    last4: str
    decline_code: str | None = None
    decline_message: str | None = None
    requires_action: bool = False
    expired: bool = False


# ../shared/spec/demo-catalog.md, "Sandbox payment methods"
TEST_CARDS: dict[str, _TestCard] = {
    "pm_card_visa": _TestCard("visa", "4242"),
    "pm_card_mastercard": _TestCard("mastercard", "4444"),
    "pm_card_chargeDeclined": _TestCard("visa", "0002", "card_declined", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": _TestCard(
        "visa", "9995", "insufficient_funds", "Your card has insufficient funds."
    ),
    "pm_card_authenticationRequired": _TestCard("visa", "3184", requires_action=True),
    "pm_card_expired": _TestCard(
        "visa", "0069", "expired_card", "Your card has expired.", expired=True
    ),
}


class CardOutcome(StrEnum):
    """What a test card does when it is charged (or attached), for a test-card picker."""

    SUCCEEDS = "SUCCEEDS"
    DECLINED = "DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    REQUIRES_AUTHENTICATION = "REQUIRES_AUTHENTICATION"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class SandboxCard:
    payment_method_id: str
    brand: str
    last4: str
    outcome: CardOutcome


def sandbox_cards() -> list[SandboxCard]:
    """The sandbox's test payment methods in the order of demo-catalog.md."""
    return [
        SandboxCard(pm, card.brand, card.last4, _outcome(card)) for pm, card in TEST_CARDS.items()
    ]


def _outcome(card: _TestCard) -> CardOutcome:
    if card.expired:
        return CardOutcome.EXPIRED
    if card.requires_action:
        return CardOutcome.REQUIRES_AUTHENTICATION
    if card.decline_code == "insufficient_funds":
        return CardOutcome.INSUFFICIENT_FUNDS
    if card.decline_code:
        return CardOutcome.DECLINED
    return CardOutcome.SUCCEEDS


def _id(prefix: str, seed: str) -> str:
    return f"{prefix}_sandbox_" + hashlib.sha256(seed.encode()).hexdigest()[:24]


class SandboxProcessor:
    def __init__(self, webhook_secret: str = SANDBOX_WEBHOOK_SECRET) -> None:
        self._charges: dict[str, ChargeResult] = {}
        self._records: list[ChargeRecord] = []
        self._refunds: dict[str, Refund] = {}
        self.webhook_secret = webhook_secret

    async def create_customer(self, reference: str, name: str) -> str:
        return _id("cus", reference)

    async def create_setup_intent(self, customer_id: str) -> SetupIntent:
        intent = _id("seti", customer_id)
        return SetupIntent(intent, f"{intent}_secret")

    async def attach_payment_method(self, customer_id: str, payment_method_id: str) -> CardDetails:
        card = TEST_CARDS.get(payment_method_id)
        if card is None:
            known = ", ".join(TEST_CARDS)
            raise PaymentMethodError(
                f"Unknown payment method {payment_method_id!r}: the sandbox accepts {known}.",
                field="paymentMethodId",
                reason="INVALID_PAYMENT_METHOD",
            )
        if card.expired:
            # As Stripe does: an expired card is refused when it is attached (PAY-3).
            raise PaymentMethodError(
                f"{DECLINE_REASONS['expired_card']}.",
                field="paymentMethodId",
                reason="EXPIRED_CARD",
            )
        return CardDetails(payment_method_id, card.brand, card.last4, 12, 2034)

    async def detach_payment_method(self, payment_method_id: str) -> None:
        return None

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.idempotency_key in self._charges:
            return self._charges[request.idempotency_key]
        card = TEST_CARDS.get(request.payment_method_id)
        charge_id = _id("pi", request.idempotency_key)
        if card is None:
            result = ChargeResult(
                ChargeStatus.FAILED, charge_id, "invalid_payment_method", "Unknown card."
            )
        elif card.requires_action:
            result = ChargeResult(
                ChargeStatus.REQUIRES_ACTION, charge_id, client_secret=f"{charge_id}_secret"
            )
        elif card.decline_code:
            result = ChargeResult(
                ChargeStatus.FAILED, charge_id, card.decline_code, card.decline_message
            )
        else:
            result = ChargeResult(ChargeStatus.SUCCEEDED, charge_id)
        self._charges[request.idempotency_key] = result
        self._records.append(
            ChargeRecord(
                charge_id,
                request.idempotency_key,
                request.reference,
                request.amount,
                request.currency,
                result.status is ChargeStatus.SUCCEEDED,
                datetime.now(UTC),
            )
        )
        return result

    async def recent_charges(self, since: datetime) -> list[ChargeRecord]:
        return [record for record in self._records if record.created >= since]

    async def refund(self, charge_id: str, amount: int, idempotency_key: str) -> Refund:
        if idempotency_key not in self._refunds:
            self._refunds[idempotency_key] = Refund(_id("re", idempotency_key), amount)
        return self._refunds[idempotency_key]

    def parse_webhook(self, payload: bytes, signature: str | None) -> ProcessorEvent:
        verify_webhook_signature(payload, signature, self.webhook_secret)
        return event_from_stripe_json(payload)
