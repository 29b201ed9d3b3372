"""The subscription's records: account-change requests and feature settings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.organization import Organization


class AccountChangeRequest(Model):
    # CHG-8: a downgrade made by staff; recorded as REQUESTED, nothing changes until then.
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="account_change_requests", on_delete=fields.CASCADE
    )
    organization_id: UUID
    requested_by_id = fields.UUIDField()
    message = fields.TextField()
    wanted: dict[str, Any] | None = fields.JSONField(null=True)
    status = fields.CharField(max_length=16, default="REQUESTED")
    created_at = fields.DatetimeField()

    class Meta:
        table = "account_change_request"


class FeatureSetting(Model):
    # CHG-9: settings of a feature the plan lost are kept, inactive, and come back with it.
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="feature_settings", on_delete=fields.CASCADE
    )
    organization_id: UUID
    feature = fields.CharField(max_length=64)
    key = fields.CharField(max_length=64)
    value = fields.TextField()
    active = fields.BooleanField(default=True)

    class Meta:
        table = "feature_setting"
        unique_together = (("organization", "feature", "key"),)


class Notification(Model):
    # NOT-1: stored for owners and billing admins, readable through the API.
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="notifications", on_delete=fields.CASCADE
    )
    organization_id: UUID
    kind = fields.CharField(max_length=48)
    message = fields.TextField()
    created_at = fields.DatetimeField()
    # The invoice the notice is about (its number and amount in the e-mail), when there is one.
    invoice_id = fields.UUIDField(null=True)
    # The e-mail outbox: retried until delivered, never dropped.
    delivered_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)

    class Meta:
        table = "notification"
        ordering = ["-created_at"]


class DocumentEmail(Model):
    # A document (an invoice; later a credit note) to e-mail with its PDF to the billing e-mail,
    # written in the transaction that issues it; the outbox delivers it, retried until delivered,
    # once: one row per document.
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="document_emails", on_delete=fields.CASCADE
    )
    organization_id: UUID
    kind = fields.CharField(max_length=32)  # resolvers.document_mail.DOCUMENT_KINDS
    document_id = fields.UUIDField()
    number = fields.CharField(max_length=32)
    recipient = fields.CharField(max_length=254)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)

    class Meta:
        table = "document_email"
        unique_together = (("kind", "document_id"),)
        ordering = ["created_at"]


class ProcessedEvent(Model):
    # Webhook events applied, by the processor's event id: each is applied once, however often
    # it is delivered.
    id = fields.CharField(max_length=200, primary_key=True)
    type = fields.CharField(max_length=100)
    outcome = fields.CharField(max_length=100)
    received_at = fields.DatetimeField()

    class Meta:
        table = "processed_event"


class ApiKey(Model):
    # ACC-6: partner and operator keys, bound to one organization, with scopes; platform keys
    # (the SaaS's backend) are bound to none. Only a hash of the secret is kept.
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="api_keys", null=True, on_delete=fields.CASCADE
    )
    organization_id: UUID | None
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=16, unique=True)
    secret_hash = fields.CharField(max_length=64)
    scopes: list[str] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
