"""Organizations made to measure for a test: one owner, a card, a subscription with given items
and period. Each test makes its own, so the demo organizations stay as seeded."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

from billing.access import Role
from billing.periods import BillingInterval
from billing.subscription_status import SubscriptionStatus
from gateway.catalog_spec import ItemSpec
from gateway.seed import create_item
from models import (
    Invoice,
    Membership,
    Organization,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    User,
)

_serial = count(1)


async def organization_with(
    items: list[dict[str, Any]],
    *,
    period: tuple[datetime, datetime],
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    interval: BillingInterval = BillingInterval.MONTHLY,
    card: str | None = "pm_card_visa",
    trial_ends_at: datetime | None = None,
    credit_balance: int = 0,
) -> tuple[Organization, str]:
    """The organization and its owner's e-mail."""
    slug = f"t{next(_serial)}-{items[0]['product']}"
    organization = await Organization.create(
        slug=slug, name=slug.title(), credit_balance=credit_balance
    )
    owner = await User.create(email=f"owner@{slug}.test", name="Owner")
    await Membership.create(organization=organization, user=owner, role=Role.OWNER)
    billing = await User.create(email=f"billing@{slug}.test", name="Billing")
    await Membership.create(organization=organization, user=billing, role=Role.BILLING_ADMIN)
    if card:
        await PaymentMethod.create(
            organization=organization,
            processor_id=card,
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2034,
            is_default=True,
        )
    subscription = await Subscription.create(
        organization=organization,
        status=status,
        billing_interval=interval,
        currency="USD",
        billing_anchor=period[1],  # a period boundary: renewals count months from it (MNY-3)
        current_period_start=period[0],
        current_period_end=period[1],
        trial_ends_at=trial_ends_at,
    )
    for item in items:
        await create_item(subscription, ItemSpec(**item), interval)
    return organization, owner.email


async def member_of(organization: Organization) -> str:
    """A MEMBER of the organization (ACC-3: no billing role); their e-mail."""
    user = await User.create(email=f"member@{organization.slug}.test", name="Member")
    await Membership.create(organization=organization, user=user, role=Role.MEMBER)
    return user.email


async def state_of(organization: Organization) -> dict[str, Any]:
    """Everything a failed change must leave as it was."""
    subscription = await Subscription.get(organization_id=organization.id)
    items = (
        await SubscriptionItem.filter(subscription_id=subscription.id)
        .order_by("product_id")
        .values()
    )
    await organization.refresh_from_db()
    return {
        "subscription": {
            k: v
            for k, v in (await Subscription.filter(id=subscription.id).values())[0].items()
            if k != "updated_at"
        },
        "items": items,
        "invoices": await Invoice.filter(organization_id=organization.id).count(),
        "credit_balance": organization.credit_balance,
    }
