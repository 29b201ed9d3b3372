"""Outbound webhooks (EVT-1): the event types, the signature scheme and the retry schedule."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

SIGNATURE_HEADER = "Billing-Gateway-Signature"
EVENT_ID_HEADER = "Billing-Gateway-Event-Id"
# Pauses after the 1st, 2nd, … failed attempt; after the last the delivery is FAILED. Together
# they span more than three days (EVT-1: retried for at least three days).
RETRY_PAUSES = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
    timedelta(hours=24),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_PAUSES) + 1
TRIAL_ENDING_NOTICE = timedelta(days=3)


class EventType(StrEnum):
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_CHANGED = "subscription.changed"
    SUBSCRIPTION_STATUS_CHANGED = "subscription.status_changed"
    TRIAL_ENDING = "subscription.trial_ending"
    TRIAL_ENDED = "subscription.trial_ended"
    PLAN_CHANGE_SCHEDULED = "plan_change.scheduled"
    PLAN_CHANGE_APPLIED = "plan_change.applied"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
    INVOICE_REFUNDED = "invoice.refunded"
    INVOICE_DISPUTE_CREATED = "invoice.dispute_created"
    INVOICE_DISPUTE_CLOSED = "invoice.dispute_closed"
    CREDIT_NOTE_ISSUED = "credit_note.issued"  # CRN-1
    USAGE_THRESHOLD_REACHED = "usage.threshold_reached"
    USAGE_LIMIT_REACHED = "usage.limit_reached"
    PAYMENT_METHOD_UPDATED = "payment_method.updated"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # every attempt of more than three days failed; it can be re-sent


def next_attempt_at(attempts: int, failed_at: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None: give up (FAILED)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + RETRY_PAUSES[max(attempts, 1) - 1]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256, in hex, of `timestamp.body` under one secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one v1 per secret valid now (two in a rotation)."""
    parts = [f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)]
    return ",".join(parts)


def valid_secrets(
    secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    if previous and previous_expires_at is not None and now < previous_expires_at:
        return [secret, previous]
    return [secret]


def unknown_event_types(wanted: Iterable[str]) -> list[str]:
    known = {t.value for t in EventType}
    return sorted(set(wanted) - known)
