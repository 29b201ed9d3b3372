"""CUR-1: an organization's currency, chosen when provisioned and fixed at its first
subscription. Authorise (the caller), load, ask billing.currency, write."""

from __future__ import annotations

from uuid import UUID

from tortoise.transactions import in_transaction

from billing import currency as rules
from billing.errors import NotFoundError
from models import Invoice, Organization, Subscription
from resolvers.catalog import current_catalog_snapshot


async def offered_currencies() -> tuple[str, ...]:
    """The catalog's currencies, its default first."""
    return (await current_catalog_snapshot()).currencies


async def provisioned_currency(wanted: str | None) -> str:
    """The currency of a new organization: `wanted`, else the catalog's default."""
    snapshot = await current_catalog_snapshot()
    return rules.chosen_currency(wanted, snapshot.currencies, snapshot.default_currency)


async def set_currency(organization_id: UUID, wanted: str) -> Organization:
    """The organization's new currency; refused (CURRENCY_FIXED) once it has subscribed or been
    invoiced, and for a currency the catalog does not price in (CURRENCY_UNSUPPORTED)."""
    offered = await offered_currencies()
    async with in_transaction():
        organization = await Organization.filter(id=organization_id).select_for_update().first()
        if organization is None:
            raise NotFoundError("No such organization.")
        subscribed = await Subscription.exists(
            organization_id=organization_id
        ) or await Invoice.exists(organization_id=organization_id)
        code = rules.currency_change(
            organization.currency, wanted, offered, has_subscribed=subscribed
        )
        if code != organization.currency:
            organization.currency = code
            await organization.save(update_fields=["currency"])
    return organization
