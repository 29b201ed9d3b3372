"""Webhook endpoints, managed by the SaaS backend with a platform key of scope webhooks:write
(EVT-1): register (the secret shown once), list, disable, rotate the secret, list deliveries,
re-send one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from billing.errors import BillingError, NotFoundError
from billing.webhooks import DeliveryStatus, unknown_event_types
from models import WebhookDelivery, WebhookEndpoint
from resolvers.webhook_urls import check_endpoint_url

SECRET_PREFIX = "whsec_"
MAX_DELIVERIES_LISTED = 200
MAX_ROTATION_OVERLAP = timedelta(days=7)


@dataclass(frozen=True)
class Registration:
    url: str
    events: list[str]
    description: str = ""


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _checked_events(events: list[str]) -> list[str]:
    if not events:
        raise BillingError("Name at least one event type to receive.", field="events")
    if unknown := unknown_event_types(events):
        raise BillingError(
            f"Unknown event types {unknown}: see the README's table of webhook events.",
            field="events",
        )
    return sorted(set(events))


async def register_endpoint(
    registration: Registration, now: datetime, *, allow_private: bool
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its signing secret, which is shown this once."""
    events = _checked_events(registration.events)
    url = await check_endpoint_url(registration.url, allow_private=allow_private)
    secret = _new_secret()
    endpoint = await WebhookEndpoint.create(
        url=url,
        events=events,
        description=registration.description[:200],
        secret=secret,
        created_at=now,
    )
    return endpoint, secret


async def list_endpoints() -> list[WebhookEndpoint]:
    return await WebhookEndpoint.all().order_by("created_at", "id")


async def find_endpoint(endpoint_id: str) -> WebhookEndpoint:
    try:
        endpoint = await WebhookEndpoint.get_or_none(id=UUID(endpoint_id))
    except ValueError:
        endpoint = None
    if endpoint is None:
        raise NotFoundError(f"No webhook endpoint {endpoint_id!r}.", field="id")
    return endpoint


async def disable_endpoint(endpoint_id: str, now: datetime) -> WebhookEndpoint:
    """Nothing more is sent to it; its deliveries stay listable."""
    endpoint = await find_endpoint(endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = now
        await endpoint.save(update_fields=["disabled_at"])
    return endpoint


async def rotate_secret(
    endpoint_id: str, previous_valid_for: timedelta, now: datetime
) -> tuple[WebhookEndpoint, str]:
    """A new secret (shown once); the old one still signs, as a second v1, for a while."""
    if not timedelta(0) <= previous_valid_for <= MAX_ROTATION_OVERLAP:
        raise BillingError(
            "The previous secret may stay valid for 0 to 168 hours.", field="previousValidHours"
        )
    endpoint = await find_endpoint(endpoint_id)
    secret = _new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + previous_valid_for
    endpoint.secret = secret
    await endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint, secret


async def list_deliveries(
    endpoint: WebhookEndpoint, status: DeliveryStatus | None, first: int
) -> list[WebhookDelivery]:
    """The newest first."""
    if not 1 <= first <= MAX_DELIVERIES_LISTED:
        raise BillingError(f"`first` must be 1 to {MAX_DELIVERIES_LISTED}.", field="first")
    query = WebhookDelivery.filter(endpoint_id=endpoint.id).select_related("event")
    if status is not None:
        query = query.filter(status=status.value)
    return await query.order_by("-id").limit(first)


async def resend_delivery(delivery_id: str, now: datetime) -> WebhookDelivery:
    """The event again, as a new delivery at the end of its endpoint's queue (same event id:
    a receiver that already has it ignores it)."""
    try:
        original = await WebhookDelivery.get_or_none(id=int(delivery_id)).select_related("endpoint")
    except ValueError:
        original = None
    if original is None:
        raise NotFoundError(f"No webhook delivery {delivery_id!r}.", field="id")
    if original.endpoint.disabled_at is not None:
        raise BillingError(
            "The endpoint is disabled: register it again to receive events.", field="id"
        )
    delivery = await WebhookDelivery.create(
        endpoint_id=original.endpoint_id,
        event_id=original.event_id,
        organization_id=original.organization_id,
        status=DeliveryStatus.PENDING.value,
        created_at=now,
    )
    return await WebhookDelivery.get(id=delivery.id).select_related("event")
