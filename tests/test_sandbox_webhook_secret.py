"""The sandbox processor verifies webhooks with STRIPE_WEBHOOK_SECRET when it is set, so events
signed with the public sandbox constant are refused there."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import stripe

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Settings, load_settings
from models import ProcessedEvent
from payments.sandbox import SANDBOX_WEBHOOK_SECRET
from tests.conftest import JWT_SECRET

OWN_SECRET = "whsec_" + "k" * 32


async def _deliver(app_settings: Settings, clock: FixedClock, event_id: str, secret: str) -> int:
    body = {"id": event_id, "object": "event", "type": "customer.created", "data": {"object": {}}}
    payload = json.dumps(body)
    signature = stripe.WebhookSignature.generate_signature_header(payload, secret)
    app = create_app(app_settings, clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        response = await http.post(
            "/webhooks/stripe", content=payload, headers={"stripe-signature": signature}
        )
    return response.status_code


def test_the_variable_reaches_the_sandbox_settings() -> None:
    settings = load_settings(
        {"GATEWAY_JWT_SECRET": JWT_SECRET, "STRIPE_WEBHOOK_SECRET": OWN_SECRET}
    )
    assert settings.stripe_api_key is None  # still the sandbox processor
    assert settings.stripe_webhook_secret == OWN_SECRET


async def test_the_sandbox_uses_stripe_webhook_secret_when_set(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    own = replace(settings, stripe_webhook_secret=OWN_SECRET)
    assert await _deliver(own, clock, "evt_signed_with_constant", SANDBOX_WEBHOOK_SECRET) == 400
    assert not await ProcessedEvent.exists(id="evt_signed_with_constant")
    assert await _deliver(own, clock, "evt_signed_with_own", OWN_SECRET) == 200
    assert await ProcessedEvent.exists(id="evt_signed_with_own")


async def test_without_it_the_sandbox_keeps_its_documented_secret(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    assert settings.stripe_webhook_secret is None
    assert await _deliver(settings, clock, "evt_sandbox_default", SANDBOX_WEBHOOK_SECRET) == 200
    assert await _deliver(settings, clock, "evt_sandbox_other", OWN_SECRET) == 400
