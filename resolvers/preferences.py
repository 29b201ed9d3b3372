"""Upgrade preferences and auto-downgrade per product (PREF-1 to PREF-3, DUN-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.clock import offset
from billing.dunning import PauseFacts, ResumeRefusal, resume_refusal
from billing.errors import BillingError
from billing.policies import ACTING_PREFERENCES, UpgradePreference
from billing.usage import auto_downgrade_allowed, preference_allowed
from models import Organization, SubscriptionItem
from resolvers.catalog import CatalogSnapshot
from resolvers.invoicing import default_payment_method
from resolvers.locks import lock_organization
from resolvers.plan_change import has_valid_card


@dataclass(frozen=True)
class PreferenceState:
    product: str
    preference: UpgradePreference | None
    auto_downgrade: bool


async def _item(
    organization_id: UUID, snapshot: CatalogSnapshot, product: str
) -> tuple[SubscriptionItem, int]:
    found = snapshot.product_by_code(product)
    item = (
        await SubscriptionItem.filter(
            subscription__organization_id=organization_id, product_id=found.id
        )
        .select_for_update()
        .first()
        if found
        else None
    )
    if found is None or item is None:
        raise BillingError(f"{product!r} is not a product of this subscription.", field="product")
    return item, found.id


async def set_upgrade_preference(
    organization_id: UUID,
    snapshot: CatalogSnapshot,
    product: str,
    preference: UpgradePreference,
    base_now: datetime,
) -> PreferenceState:
    async with in_transaction():
        organization = await lock_organization(organization_id)
        item, product_id = await _item(organization_id, snapshot, product)
        offered = [UpgradePreference(p) for p in snapshot.policies[product_id].upgrade_preferences]
        if not offered:
            raise BillingError(
                f"{product} has no upgrade preference to choose (PREF-2).", field="product"
            )
        if not preference_allowed(preference, offered):
            names = ", ".join(p.value for p in offered)
            raise BillingError(
                f"{product} offers {names}, not {preference.value} (PREF-2).", field="preference"
            )
        if preference in ACTING_PREFERENCES and organization.automatic_charges_paused:
            await _resume_automatic_charges(organization, base_now)
        item.upgrade_preference = preference
        if not auto_downgrade_allowed(preference):
            item.auto_downgrade = False  # PREF-3: never together with AUTO_UPGRADE
        await item.save(update_fields=["upgrade_preference", "auto_downgrade"])
        return PreferenceState(product, preference, item.auto_downgrade)


async def _resume_automatic_charges(organization: Organization, base_now: datetime) -> None:
    """DUN-5: back on only with a valid card to charge, other than the one that failed."""
    now = offset(base_now, organization.clock_offset_seconds)
    card = await default_payment_method(organization.id)
    refusal = resume_refusal(
        PauseFacts(
            paused=organization.automatic_charges_paused,
            failed_card=organization.failed_payment_method_id,
            default_card=card.processor_id if card else None,
            default_card_usable=await has_valid_card(organization.id, now),
        )
    )
    if refusal is not None:
        raise BillingError(_REFUSALS[refusal], reason=refusal.value)
    organization.automatic_charges_paused = False
    organization.automatic_charges_pause_reason = None
    organization.failed_payment_method_id = None
    await organization.save(
        update_fields=[
            "automatic_charges_paused",
            "automatic_charges_pause_reason",
            "failed_payment_method_id",
        ]
    )


_REFUSALS = {
    ResumeRefusal.NO_PAYMENT_METHOD: "A card payment failed: add a valid payment method before "
    "switching automatic charges on.",
    ResumeRefusal.FAILING_CARD_STILL_DEFAULT: "A payment with the default card failed and it "
    "is still the default: replace it (replacePaymentMethod) before switching automatic "
    "charges on.",
}


async def set_auto_downgrade(
    organization_id: UUID, snapshot: CatalogSnapshot, product: str, enabled: bool
) -> PreferenceState:
    async with in_transaction():
        await lock_organization(organization_id)
        item, product_id = await _item(organization_id, snapshot, product)
        if not snapshot.policies[product_id].auto_downgrade_available:
            raise BillingError(
                f"{product} has no auto-downgrade (PREF-3: email plans only).", field="product"
            )
        if enabled and not auto_downgrade_allowed(item.upgrade_preference):
            raise BillingError(
                "Auto-downgrade works with Flexible overage or None, not Auto-upgrade: "
                "change the preference first (PREF-3).",
                field="enabled",
            )
        item.auto_downgrade = enabled
        await item.save(update_fields=["auto_downgrade"])
        return PreferenceState(product, item.upgrade_preference, enabled)
