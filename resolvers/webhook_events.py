"""Recording webhook events (EVT-1): called where the change happens, inside its transaction,
so the event exists exactly when the change does; one pending delivery per endpoint that wants
it, which the billing clock sends (resolvers/webhook_delivery.py)."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from billing.subscription_status import SubscriptionStatus
from billing.usage import STATUS_BLOCKS
from billing.webhooks import DeliveryStatus, EventType
from models import Invoice, Subscription, WebhookDelivery, WebhookEndpoint, WebhookEvent


@dataclass
class _Kept:
    endpoints: list[WebhookEndpoint] | None = None


_kept: ContextVar[_Kept | None] = ContextVar("webhook_endpoints_kept", default=None)


@asynccontextmanager
async def endpoints_kept() -> AsyncIterator[None]:
    """Within it, the enabled endpoints are read once, however many events are recorded (a plan
    change records up to five, in one transaction)."""
    token = _kept.set(_Kept())
    try:
        yield
    finally:
        _kept.reset(token)


async def _enabled_endpoints() -> list[WebhookEndpoint]:
    kept = _kept.get()
    if kept is not None and kept.endpoints is not None:
        return kept.endpoints
    endpoints = await WebhookEndpoint.filter(disabled_at__isnull=True).order_by("created_at")
    if kept is not None:
        kept.endpoints = endpoints
    return endpoints


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


async def record_event(
    organization_id: UUID, type: EventType, data: dict[str, Any], now: datetime
) -> WebhookEvent | None:
    """The event and its deliveries, or None when no endpoint wants this type."""
    endpoints = wanting(await _enabled_endpoints(), type)
    if not endpoints:
        return None
    event_id = new_event_id()
    event = await WebhookEvent.create(
        id=event_id,
        organization_id=organization_id,
        type=type.value,
        body=event_body(event_id, organization_id, type, data, now),
        created_at=now,
    )
    for endpoint in endpoints:
        await WebhookDelivery.create(
            endpoint=endpoint,
            event=event,
            organization_id=organization_id,
            status=DeliveryStatus.PENDING.value,
            created_at=now,
        )
    return event


async def active_endpoints() -> list[WebhookEndpoint]:
    """The endpoints that receive events, oldest first (their deliveries are made in order)."""
    return await WebhookEndpoint.filter(disabled_at__isnull=True).order_by("created_at")


def wanting(endpoints: list[WebhookEndpoint], type: EventType) -> list[WebhookEndpoint]:
    return [e for e in endpoints if type.value in e.events]


def event_body(
    event_id: str, organization_id: UUID, type: EventType, data: dict[str, Any], now: datetime
) -> str:
    """The event as it is stored and sent (EVT-1)."""
    body = {
        "id": event_id,
        "type": type.value,
        "created_at": _iso(now),
        "organization_id": str(organization_id),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


async def status_changed(
    row: Subscription, old: SubscriptionStatus, now: datetime, reason: str = ""
) -> None:
    """subscription.status_changed, when the status did change, with what the usage gate now
    says (CAN-4: FROZEN or CANCELLING, outbound sending stops)."""
    if row.status is old:
        return
    blocked = STATUS_BLOCKS[row.status]
    data = {
        "old_status": old.value,
        "new_status": row.status.value,
        "outbound_blocked": blocked is not None,
        "usage_gate_reason": blocked.value if blocked is not None else None,
        "reason": reason,
        "subscription": subscription_data(row),
    }
    await record_event(row.organization_id, EventType.SUBSCRIPTION_STATUS_CHANGED, data, now)


async def subscription_event(row: Subscription, type: EventType, now: datetime) -> None:
    await record_event(row.organization_id, type, {"subscription": subscription_data(row)}, now)


async def invoice_event(
    invoice: Invoice, type: EventType, now: datetime, **extra: str | int | None
) -> None:
    await record_event(
        invoice.organization_id, type, {"invoice": invoice_data(invoice), **extra}, now
    )


def subscription_data(row: Subscription) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "status": row.status.value,
        "billing_interval": row.billing_interval.value,
        "currency": row.currency,
        "current_period_start": _iso(row.current_period_start),
        "current_period_end": _iso(row.current_period_end),
        "trial_ends_at": _iso(row.trial_ends_at),
        "cancel_at": _iso(row.cancel_at),
    }


def invoice_data(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": str(invoice.id),
        "number": invoice.number,
        "kind": invoice.kind.value,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "total": invoice.total,
        "tax": invoice.tax_total,  # TAX-1: the tax the total contains
        "amount_due": invoice.amount_due,
        "issued_at": _iso(invoice.issued_at),
        "due_at": _iso(invoice.due_at),
        "paid_at": _iso(invoice.paid_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def plan_change_event(
    row: Subscription, type: EventType, change: dict[str, Any], now: datetime
) -> None:
    """plan_change.scheduled or .applied; an applied change also changes the subscription."""
    data = {"change": change, "subscription": subscription_data(row)}
    await record_event(row.organization_id, type, data, now)
    if type is EventType.PLAN_CHANGE_APPLIED:
        await subscription_event(row, EventType.SUBSCRIPTION_CHANGED, now)
