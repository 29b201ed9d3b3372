"""Provisioning organizations and trials with a platform key (PRV-1, ACC-6). Each call is
idempotent by the SaaS's external id: a resend finds what the first one made and answers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from billing.access import Role
from billing.errors import BillingError, NotFoundError
from billing.periods import BillingInterval
from billing.provisioning import (
    check_email,
    check_external_id,
    check_slug,
    trial_period,
)
from billing.subscription_status import SubscriptionStatus
from billing.webhooks import EventType
from models import Membership, Organization, Subscription, User
from resolvers.billing_info import BillingInfoChange, update_billing_info
from resolvers.caller_cache import forget_callers
from resolvers.currency import provisioned_currency, set_currency
from resolvers.trial_items import TrialPlan, create_trial_item
from resolvers.webhook_events import subscription_event


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    external_id: str | None = None


@dataclass(frozen=True)
class NewOrganization:
    external_id: str
    name: str
    slug: str
    owner: Person
    billing: BillingInfoChange
    currency: str | None = None


@dataclass(frozen=True)
class Provisioned:
    organization: Organization
    changed: bool  # False: a resend, answered with what the first call made


async def organization_by_external_id(external_id: str) -> Organization:
    organization = await Organization.get_or_none(external_id=external_id)
    if organization is None:
        raise NotFoundError(
            f"No organization has the external id {external_id!r}: createOrganization first.",
        )
    return organization


async def create_organization(new: NewOrganization) -> Provisioned:
    check_external_id(new.external_id)
    existing = await Organization.get_or_none(external_id=new.external_id)
    if existing is not None:
        if existing.slug != new.slug:
            raise BillingError(
                f"The external id {new.external_id!r} is used by another organization "
                f"({existing.slug!r}): a resend sends the same slug; a new organization needs "
                "its own external id.",
                field="externalId",
            )
        return Provisioned(existing, changed=False)
    check_slug(new.slug)
    if not new.name.strip():
        raise BillingError("The organization's name is required.", field="name")
    currency = await provisioned_currency(new.currency)
    if await Organization.exists(slug=new.slug):
        raise BillingError(
            f"The slug {new.slug!r} is used by another organization: choose another one.",
            field="slug",
        )
    try:
        async with in_transaction():
            owner = await find_or_create_user(new.owner)
            organization = await Organization.create(
                external_id=new.external_id, slug=new.slug, name=new.name.strip(), currency=currency
            )
            await Membership.create(organization=organization, user=owner, role=Role.OWNER)
            await update_billing_info(organization.id, new.billing)
    except IntegrityError:
        # A concurrent resend won the race: answer what it made.
        existing = await Organization.get_or_none(external_id=new.external_id)
        if existing is None:
            raise BillingError(
                f"The slug {new.slug!r} was just taken by another organization: choose another.",
                field="slug",
            ) from None
        return Provisioned(existing, changed=False)
    forget_callers()  # the owner may be a known user, with a new membership
    return Provisioned(organization, changed=True)


async def set_organization_currency(external_id: str, currency: str) -> Provisioned:
    """CUR-1: the platform sets the currency before the first subscription."""
    organization = await organization_by_external_id(external_id)
    before = organization.currency
    organization = await set_currency(organization.id, currency)
    return Provisioned(organization, changed=organization.currency != before)


async def find_or_create_user(person: Person) -> User:
    """The person by the SaaS's external id, else by e-mail; created when neither is known."""
    check_email(person.email.strip())
    email = person.email.strip().lower()
    if person.external_id is not None:
        check_external_id(person.external_id, field="externalId")
        user = await User.get_or_none(external_id=person.external_id)
        if user is not None:
            return user
    user = await User.get_or_none(email=email)
    if user is None:
        if not person.name.strip():
            raise BillingError("The person's name is required.", field="name")
        return await User.create(
            email=email, name=person.name.strip(), external_id=person.external_id
        )
    if person.external_id is not None:
        if user.external_id not in (None, person.external_id):
            raise BillingError(
                f"{email} belongs to a user with another external id ({user.external_id!r}): "
                "send that one, or another e-mail address.",
                field="externalId",
            )
        if user.external_id is None:
            user.external_id = person.external_id
            await user.save(update_fields=["external_id"])
    return user


async def start_trial(
    organization_external_id: str, plan: TrialPlan, days: int, now: datetime
) -> Provisioned:
    """SUB-2: a trial charges nothing, so it needs no card; a resend answers the same trial."""
    organization = await organization_by_external_id(organization_external_id)
    current = await Subscription.get_or_none(organization_id=organization.id)
    if current is not None:
        if current.status is SubscriptionStatus.TRIALING:
            return Provisioned(organization, changed=False)
        raise BillingError(
            f"{organization.name} already has a subscription ({current.status.value}): a trial "
            "starts only for an organization that has none.",
            field="organizationExternalId",
        )
    start, end = trial_period(now, days)
    async with in_transaction():
        subscription = await Subscription.create(
            organization=organization,
            status=SubscriptionStatus.TRIALING,
            billing_interval=BillingInterval.MONTHLY,
            currency=organization.currency,
            billing_anchor=start,
            current_period_start=start,
            current_period_end=end,
            trial_ends_at=end,
        )
        await create_trial_item(subscription, plan)
        await subscription_event(subscription, EventType.SUBSCRIPTION_CREATED, now)  # EVT-1
    return Provisioned(organization, changed=True)
