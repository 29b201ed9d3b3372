"""Outbound webhooks (EVT-1): the SaaS backend's endpoints, the events recorded for them in the
same transaction as their change, and one delivery per endpoint and event (the outbox)."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.organization import Organization


class WebhookEndpoint(Model):
    # Registered with a platform key: receives the events it wants of every organization.
    id = fields.UUIDField(primary_key=True)
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="")
    events: list[str] = fields.JSONField(default=list)
    secret = fields.CharField(max_length=100)
    # During a rotation the previous secret signs too, until it expires.
    previous_secret = fields.CharField(max_length=100, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"


class WebhookEvent(Model):
    id = fields.CharField(max_length=40, primary_key=True)  # evt_…, what receivers dedupe by
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="webhook_events", on_delete=fields.CASCADE
    )
    organization_id: UUID
    type = fields.CharField(max_length=64)
    body = fields.TextField()  # the exact JSON sent, signed byte for byte
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_event"


class WebhookDelivery(Model):
    # The generated id orders an endpoint's deliveries per organization (EVT-1: in order).
    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "gateway.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    endpoint_id: UUID
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "gateway.WebhookEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id: str
    organization_id = fields.UUIDField(db_index=True)
    status = fields.CharField(max_length=16, default="PENDING", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    last_status_code = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
