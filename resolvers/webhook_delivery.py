"""Delivering webhook events (EVT-1), from the billing clock: at least once, in order per
endpoint and organization (the next waits until the one before is delivered or has failed for
good), retried with growing pauses for more than three days, a few at a time with a short
timeout, so a receiver that hangs delays only its own deliveries and never the clock."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from tortoise.expressions import Q

from billing.errors import BillingError
from billing.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    DeliveryStatus,
    next_attempt_at,
    signature_header,
    valid_secrets,
)
from models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from resolvers.webhook_urls import check_endpoint_url

log = logging.getLogger("billing_gateway.webhooks_out")
PENDING = DeliveryStatus.PENDING.value
# A delivery being sent is leased: another clock skips it until the lease ends (a crash while
# sending means it is sent again: at least once).
LEASE = timedelta(minutes=2)
HEADS_LOOKED_AT = 1000


@dataclass(frozen=True)
class DeliveryOptions:
    timeout_seconds: float = 5.0
    per_tick: int = 100  # the most deliveries one tick attempts
    concurrency: int = 10
    allow_private: bool = False  # GATEWAY_WEBHOOKS_ALLOW_PRIVATE


@dataclass
class DeliveryCounts:
    delivered: int = 0
    postponed: int = 0
    failed: int = 0
    skipped: int = 0  # another clock had just claimed it

    @property
    def attempted(self) -> int:
        return self.delivered + self.postponed + self.failed


async def deliver_webhooks(now: datetime, options: DeliveryOptions) -> DeliveryCounts:
    """Sends what is due at `now` (the billing clock's time), up to `options.per_tick`."""
    counts = DeliveryCounts()
    limits = httpx.Limits(max_connections=options.concurrency)
    async with httpx.AsyncClient(timeout=options.timeout_seconds, limits=limits) as http:
        while counts.attempted < options.per_tick:
            heads = await _due_heads(now, options.per_tick - counts.attempted)
            if not heads:
                break
            outcomes = await asyncio.gather(*(_attempt(d, now, http, options) for d in heads))
            for outcome in outcomes:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


async def _due_heads(now: datetime, limit: int) -> list[WebhookDelivery]:
    """The first pending delivery of each endpoint and organization, if it is due."""
    pending = (
        await WebhookDelivery.filter(status=PENDING, endpoint__disabled_at__isnull=True)
        .order_by("id")
        .limit(HEADS_LOOKED_AT)
    )
    heads: dict[tuple[object, object], WebhookDelivery] = {}
    for delivery in pending:
        heads.setdefault((delivery.endpoint_id, delivery.organization_id), delivery)
    due = [d for d in heads.values() if d.next_attempt_at is None or d.next_attempt_at <= now]
    return due[:limit]


async def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    """Leases the delivery unless another clock has just done so (a conditional UPDATE)."""
    same = Q(next_attempt_at__isnull=True)
    if delivery.next_attempt_at is not None:
        same = Q(next_attempt_at=delivery.next_attempt_at)
    claimed = await WebhookDelivery.filter(same, id=delivery.id, status=PENDING).update(
        next_attempt_at=now + LEASE
    )
    return claimed == 1


async def _attempt(
    delivery: WebhookDelivery, now: datetime, http: httpx.AsyncClient, options: DeliveryOptions
) -> str:
    if not await _claim(delivery, now):
        return "skipped"
    endpoint = await WebhookEndpoint.get(id=delivery.endpoint_id)
    event = await WebhookEvent.get(id=delivery.event_id)
    body = event.body.encode()
    secrets = valid_secrets(
        endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at, now
    )
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secrets, int(now.timestamp()), body),
        EVENT_ID_HEADER: event.id,
        "User-Agent": "billing-gateway-webhooks/1",
    }
    error, status_code = None, None
    if not options.allow_private:
        # Checked again when sending: the host may resolve elsewhere than at registration.
        try:
            await check_endpoint_url(endpoint.url, allow_private=False)
        except BillingError as refused:
            return await _record(delivery, now, None, refused.message)
    try:
        # The overall bound covers a receiver that trickles its answer byte by byte.
        response = await asyncio.wait_for(
            http.post(endpoint.url, content=body, headers=headers), options.timeout_seconds * 2
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except (httpx.HTTPError, TimeoutError) as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    if error is None:
        log.info(
            "webhook %s: %s %s delivered to %s", delivery.id, event.type, event.id, endpoint.url
        )
    return await _record(delivery, now, status_code, error)


async def _record(
    delivery: WebhookDelivery, now: datetime, status_code: int | None, error: str | None
) -> str:
    delivery.attempts += 1
    delivery.last_status_code = status_code
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        outcome = "delivered"
    else:
        delivery.last_error = error
        delivery.next_attempt_at = next_attempt_at(delivery.attempts, now)
        if delivery.next_attempt_at is None:
            delivery.status = DeliveryStatus.FAILED.value
        outcome = "postponed" if delivery.next_attempt_at else "failed"
        log.warning(
            "webhook %s not delivered (attempt %d): %s", delivery.id, delivery.attempts, error
        )
    await delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "status",
            "delivered_at",
            "next_attempt_at",
            "last_error",
        ]
    )
    return outcome
