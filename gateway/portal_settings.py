"""STRIPE_PUBLISHABLE_KEY: the key the billing page hands to Stripe.js (card form, 3-D Secure)
with the Stripe processor. It is public by design (it is sent to every browser)."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.settings_error import SettingsError

VARIABLE = "STRIPE_PUBLISHABLE_KEY"


def load_stripe_publishable_key(env: Mapping[str, str]) -> str | None:
    key = (env.get(VARIABLE) or "").strip()
    if not key:
        return None
    if not key.startswith("pk_"):
        raise SettingsError(
            f"{VARIABLE}: expected Stripe's publishable key (pk_test_… or pk_live_…), never the "
            "secret key"
        )
    return key
