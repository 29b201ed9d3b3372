"""Metering: usage events (USE-1), per-period counters kept as events arrive, and the contacts
active in a period (USE-2), so that reading usage never scans the events."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

ALL_WORKSPACES = "*"


class UsageEvent(Model):
    id = fields.BigIntField(primary_key=True)
    organization_id: UUID = fields.UUIDField()
    event_id = fields.CharField(max_length=100)  # the sender's id: a resent event counts once
    product_id = fields.IntField()
    metric = fields.CharField(max_length=32)
    quantity = fields.BigIntField()
    contact_id = fields.CharField(max_length=100, null=True)
    workspace = fields.CharField(max_length=64)
    occurred_at: datetime = fields.DatetimeField()
    period_start: datetime = fields.DatetimeField()
    received_at: datetime = fields.DatetimeField()

    class Meta:
        table = "usage_event"
        unique_together = (("organization_id", "event_id"),)


class UsageCounter(Model):
    id = fields.BigIntField(primary_key=True)
    organization_id: UUID = fields.UUIDField()
    product_id = fields.IntField()
    metric = fields.CharField(max_length=32)
    period_start: datetime = fields.DatetimeField()
    workspace = fields.CharField(max_length=64)  # a workspace's slug, or "*" for all of them
    value = fields.BigIntField(default=0)
    # USE-4: the alert thresholds (percent) already notified for this period.
    notified_thresholds: list[int] = fields.JSONField(default=list)
    # The highest tier was passed under an acting preference, and billing managers were told
    # (once per billing month: nothing higher can be bought).
    limit_notified = fields.BooleanField(default=False)
    # EVT-1: this month's usage.limit_reached event sent (a line blocked at its limit).
    limit_event_sent = fields.BooleanField(default=False)

    class Meta:
        table = "usage_counter"
        unique_together = (
            ("organization_id", "product_id", "metric", "period_start", "workspace"),
        )


class ActiveContact(Model):
    # USE-2: a contact counts once per billing period (per workspace, and once in "*").
    id = fields.BigIntField(primary_key=True)
    organization_id: UUID = fields.UUIDField()
    product_id = fields.IntField()
    period_start: datetime = fields.DatetimeField()
    workspace = fields.CharField(max_length=64)
    contact_id = fields.CharField(max_length=100)

    class Meta:
        table = "active_contact"
        unique_together = (
            ("organization_id", "product_id", "period_start", "workspace", "contact_id"),
        )


class OveragePurchase(Model):
    # PREF-1 FLEXIBLE_OVERAGE: extra volume bought for one period, as a one-time charge.
    id = fields.BigIntField(primary_key=True)
    organization_id: UUID = fields.UUIDField()
    product_id = fields.IntField()
    metric = fields.CharField(max_length=32)
    period_start: datetime = fields.DatetimeField()
    volume = fields.BigIntField()
    amount = fields.BigIntField()
    invoice_id: UUID = fields.UUIDField()
    created_at: datetime = fields.DatetimeField()

    class Meta:
        table = "overage_purchase"
