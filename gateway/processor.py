"""Chooses the payment processor from the settings (STRIPE_API_KEY, PAYMENT_PROCESSOR)."""

from __future__ import annotations

from gateway.mailer import SmtpMailer
from gateway.settings import Settings
from payments.port import PaymentProcessor
from payments.sandbox import SANDBOX_WEBHOOK_SECRET, SandboxProcessor


def build_mailer(settings: Settings) -> SmtpMailer | None:
    if not settings.smtp_host:
        return None
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_starttls,
        public_url=settings.public_url,
    )


def build_processor(settings: Settings) -> PaymentProcessor:
    if settings.stripe_api_key:
        from payments.stripe import StripeProcessor

        return StripeProcessor(
            settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base
        )
    # The documented sandbox secret only when STRIPE_WEBHOOK_SECRET is not set: a sandbox that
    # others can reach should set its own, or anyone could sign events for it.
    return SandboxProcessor(settings.stripe_webhook_secret or SANDBOX_WEBHOOK_SECRET)
