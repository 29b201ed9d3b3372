"""Credit notes (CRN-1): what was credited back on an issued invoice, and where it went."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from billing.credit_notes import CreditDestination
from models.invoice import Invoice
from models.organization import Organization


class CreditNote(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="credit_notes", on_delete=fields.RESTRICT
    )
    organization_id: UUID
    # The invoice it corrects: the refunded one, or the one that charged the time credited.
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "gateway.Invoice", related_name="credit_notes", on_delete=fields.RESTRICT
    )
    invoice_id: UUID
    number = fields.CharField(max_length=40)  # CN-<SLUG>-00001, sequential per organization
    sequence = fields.IntField()
    currency = fields.CharField(max_length=3)
    subtotal = fields.BigIntField()  # the lines' amounts, without tax (positive: a credit)
    tax_total = fields.BigIntField(default=0)
    total = fields.BigIntField()
    tax_summary: list[dict[str, Any]] = fields.JSONField(default=list)
    reason = fields.TextField(default="")
    destination = fields.CharEnumField(CreditDestination, max_length=24)
    processor_refund_id = fields.CharField(max_length=200, null=True)
    billing_details: dict[str, Any] = fields.JSONField(default=dict)  # INV-3, as issued
    issued_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    lines: fields.ReverseRelation[CreditNoteLine]

    class Meta:
        table = "credit_note"
        unique_together = (("organization", "sequence"),)
        ordering = ["-issued_at", "-sequence"]


class CreditNoteLine(Model):
    id = fields.IntField(primary_key=True)
    credit_note: fields.ForeignKeyRelation[CreditNote] = fields.ForeignKeyField(
        "gateway.CreditNote", related_name="lines", on_delete=fields.CASCADE
    )
    credit_note_id: UUID
    position = fields.IntField()
    description = fields.CharField(max_length=320)
    amount = fields.BigIntField()  # without tax
    tax = fields.BigIntField(default=0)
    tax_rate: dict[str, Any] | None = fields.JSONField(null=True)  # the reversed line's rate

    class Meta:
        table = "credit_note_line"
        ordering = ["position"]
