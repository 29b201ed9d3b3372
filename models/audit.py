"""The audit log of billing and staff actions, and payments received outside the processor."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.invoice import Invoice
from models.organization import Organization


class AuditEntry(Model):
    # Written, never updated: no API changes an entry. The id orders the log (the clock may be
    # offset per organization in the sandbox, so occurred_at alone does not).
    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="audit_entries", on_delete=fields.CASCADE
    )
    organization_id: UUID
    occurred_at = fields.DatetimeField()
    actor_kind = fields.CharField(max_length=16)  # USER or API_KEY
    actor_id = fields.UUIDField()
    actor_label = fields.CharField(max_length=254)  # the user's e-mail or the key's name
    client_address = fields.CharField(max_length=64, null=True)
    action = fields.CharField(max_length=64)
    summary = fields.TextField()
    currency = fields.CharField(max_length=3, null=True)
    amount_subject = fields.CharField(max_length=32, null=True)  # what the amounts measure
    amount_before = fields.BigIntField(null=True)
    amount_after = fields.BigIntField(null=True)
    details: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"
        indexes = (("organization_id", "id"),)


class OfflinePayment(Model):
    # DUN-4: money received outside the processor (a bank transfer), recorded by staff.
    id = fields.UUIDField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "gateway.Invoice", related_name="offline_payments", on_delete=fields.RESTRICT
    )
    invoice_id: UUID
    method = fields.CharField(max_length=32)
    reference = fields.CharField(max_length=200)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    received_at = fields.DatetimeField()

    class Meta:
        table = "offline_payment"
