"""Cancelling, reactivating (CAN-1, CAN-2, ACC-4) and account-change requests (CHG-8)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from billing.access import Role, may_cancel
from billing.cancellation import cancellation_date, latest_cancellation_date
from billing.catalog import ProductPolicy
from billing.clock import offset
from billing.errors import BillingError, ForbiddenError, NotFoundError
from billing.periods import shift_months
from billing.scheduled_change import interval_switch
from billing.subscription_status import Event, transition
from models import AccountChangeRequest, Organization, Subscription
from resolvers.catalog import load_catalog_snapshot
from resolvers.locks import lock_organization
from resolvers.scheduled_changes import scheduled_changes_of
from resolvers.subscription_state import subscribed_product_ids
from resolvers.webhook_events import status_changed


async def _locked_subscription(organization_id: UUID) -> tuple[Organization, Subscription]:
    organization = await lock_organization(organization_id)
    row = await Subscription.filter(organization_id=organization_id).select_for_update().first()
    if row is None:
        raise NotFoundError("This organization has no subscription.")
    return organization, row


async def cancel_subscription(
    organization_id: UUID, role: Role | None, reason: str, base_now: datetime
) -> Subscription:
    snapshot = await load_catalog_snapshot()
    async with in_transaction():
        organization, row = await _locked_subscription(organization_id)
        now = offset(base_now, organization.clock_offset_seconds)
        product_ids = await subscribed_product_ids(row.id)
        policies = [snapshot.policies[pid] for pid in product_ids]
        widened = bool(policies) and all(p.billing_admin_may_cancel for p in policies)
        if not may_cancel(role, widened):
            raise ForbiddenError("Only the organization's owner can cancel the subscription.")
        reason = reason.strip()
        if not reason:
            raise BillingError(
                "Tell us why you are cancelling: a reason is required.", field="reason"
            )
        old = row.status
        row.status = transition(row.status, Event.CANCEL, cancel_at=row.cancel_at)
        row.cancel_at = await _notice_end(row, policies, now)
        row.cancel_reason = reason
        await row.save()
        await status_changed(row, old, now, "cancelled")  # EVT-1
        return row


async def _notice_end(row: Subscription, policies: list[ProductPolicy], now: datetime) -> datetime:
    # With several products the longest notice wins (CAN-2 may reach past this period).
    cancel_at = latest_cancellation_date(
        [
            cancellation_date(
                p.cancellation_notice, row.billing_interval, row.current_period_end, now
            )
            for p in policies
        ]
    )
    switch = interval_switch((await scheduled_changes_of(row.id)).values())
    if switch is not None:
        # INT-1 already paid for the longer period after this one: it ends with that period.
        cancel_at = max(cancel_at, shift_months(row.current_period_end, switch.months))
    return cancel_at


async def cancellation_notice_date(subscription_id: UUID, base_now: datetime) -> datetime | None:
    """CAN-1, CAN-2: when a cancellation requested now would take effect, as
    cancel_subscription would set it; None when the subscription cannot be cancelled now."""
    row = await Subscription.get(id=subscription_id)
    try:
        transition(row.status, Event.CANCEL, cancel_at=row.cancel_at)
    except BillingError:
        return None
    snapshot = await load_catalog_snapshot()
    organization = await Organization.get(id=row.organization_id)
    product_ids = await subscribed_product_ids(row.id)
    policies = [snapshot.policies[pid] for pid in product_ids]
    if not policies:
        return None
    return await _notice_end(row, policies, offset(base_now, organization.clock_offset_seconds))


async def reactivate_subscription(organization_id: UUID, base_now: datetime) -> Subscription:
    async with in_transaction():
        organization, row = await _locked_subscription(organization_id)
        old = row.status
        row.status = transition(row.status, Event.REACTIVATE)
        row.cancel_at = None
        row.cancel_reason = None  # type: ignore[assignment]
        await row.save()
        now = offset(base_now, organization.clock_offset_seconds)
        await status_changed(row, old, now, "reactivated")  # EVT-1
        return row


async def request_account_change(
    organization_id: UUID, user_id: UUID, message: str, base_now: datetime
) -> AccountChangeRequest:
    message = message.strip()
    if not message:
        raise BillingError(
            "Describe the change you need: the message is required.", field="message"
        )
    return await AccountChangeRequest.create(
        organization_id=organization_id,
        requested_by_id=user_id,
        message=message,
        created_at=offset(
            base_now, (await Organization.get(id=organization_id)).clock_offset_seconds
        ),
    )


async def account_change_requests(organization_id: UUID, first: int) -> list[AccountChangeRequest]:
    """CHG-8: the organization's requests, newest first."""
    return (
        await AccountChangeRequest.filter(organization_id=organization_id)
        .order_by("-created_at", "-id")
        .limit(first)
    )
