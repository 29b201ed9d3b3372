"""The embedded processor: behaves as Stripe's test mode does for its test payment-method ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from payments.port import CardDetails, ChargeRequest, ChargeResult, ChargeStatus, PaymentMethodError


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


class SandboxProcessor:
    def __init__(self) -> None:
        self._charges: dict[str, ChargeResult] = {}

    async def card_details(self, payment_method_id: str) -> CardDetails:
        card = TEST_CARDS.get(payment_method_id)
        if card is None:
            known = ", ".join(TEST_CARDS)
            raise PaymentMethodError(
                f"Unknown payment method {payment_method_id!r}: the sandbox accepts {known}.",
                field="paymentMethodId",
            )
        return CardDetails(
            payment_method_id, card.brand, card.last4, 12, 2034 if not card.expired else 2020
        )

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.idempotency_key in self._charges:
            return self._charges[request.idempotency_key]
        card = TEST_CARDS.get(request.payment_method_id)
        charge_id = (
            "ch_sandbox_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        )
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
        return result
