"""Chooses the payment processor from the settings (STRIPE_API_KEY, PAYMENT_PROCESSOR)."""

from __future__ import annotations

from gateway.settings import Settings
from payments.port import PaymentProcessor
from payments.sandbox import SandboxProcessor


def build_processor(settings: Settings) -> PaymentProcessor:
    if settings.stripe_api_key:
        from payments.stripe import StripeProcessor

        return StripeProcessor(
            settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base
        )
    return SandboxProcessor()
