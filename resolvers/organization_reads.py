"""What schema/ shows of one organization, each read scoped to that organization (ACC-5)."""

from __future__ import annotations

from uuid import UUID

from models import BillingInfo, FeatureSetting, Invoice, Notification, PaymentMethod, Subscription
from resolvers import hot_reads

MAX_NOTIFICATIONS = 100


async def subscription_of(organization_id: UUID) -> Subscription | None:
    """Read fresh, not through the request's DataLoader: a mutation asks after its own write."""
    return await Subscription.get_or_none(organization_id=organization_id)


async def changed_subscription(organization_id: UUID) -> Subscription:
    """The subscription a change was just applied to, read after that write."""
    return await Subscription.get(organization_id=organization_id)


async def invoice_of(organization_id: UUID, invoice_id: str) -> Invoice | None:
    """Another tenant's invoice, or an id that is not a UUID, is simply not there."""
    try:
        parsed = UUID(invoice_id)
    except ValueError:
        return None
    return await Invoice.get_or_none(id=parsed, organization_id=organization_id)


async def billing_info_of(organization_id: UUID) -> BillingInfo | None:
    return await BillingInfo.get_or_none(organization_id=organization_id)


async def payment_methods_of(organization_id: UUID) -> list[PaymentMethod]:
    return await hot_reads.payment_methods(organization_id)


async def notifications_of(organization_id: UUID, first: int) -> list[Notification]:
    """Newest first; `first` is brought into 1..MAX_NOTIFICATIONS."""
    return (
        await Notification.filter(organization_id=organization_id)
        .order_by("-created_at", "-id")
        .limit(max(1, min(first, MAX_NOTIFICATIONS)))
    )


async def feature_settings_of(organization_id: UUID) -> list[FeatureSetting]:
    return await FeatureSetting.filter(organization_id=organization_id).order_by("feature", "key")
