"""Invoices, their lines, payment attempts and payment methods (processor ids only, PAY-1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from billing.disputes import DisputeStatus
from billing.invoices import InvoiceKind, InvoiceStatus
from models.organization import Organization


class Invoice(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="invoices", on_delete=fields.RESTRICT
    )
    organization_id: UUID
    number = fields.CharField(max_length=32)
    sequence = fields.IntField()
    kind = fields.CharEnumField(InvoiceKind, max_length=16)
    status = fields.CharEnumField(InvoiceStatus, max_length=24)
    currency = fields.CharField(max_length=3)
    total = fields.BigIntField()  # the sum of the rounded lines after their discounts (MNY-2)
    discount_total = fields.BigIntField(default=0)  # the lines' discounts (DSC-2)
    credit_applied = fields.BigIntField(default=0)  # from the credit balance (INT-3)
    amount_due = fields.BigIntField()
    issued_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    period_start = fields.DatetimeField(null=True)
    period_end = fields.DatetimeField(null=True)
    # What to apply once a payment that waits for the customer (3-D Secure) succeeds (CHG-5).
    pending_change: dict[str, Any] | None = fields.JSONField(null=True)
    # DUN-6: how many of the grace period's automatic retries were made.
    automatic_retries = fields.IntField(default=0)
    # INV-3: issuer and customer details as they were when the invoice was issued.
    billing_details: dict[str, Any] = fields.JSONField(default=dict)
    # TAX-1: the taxable amount and tax per rate ([billing.tax.RateTotal.to_json()]), their
    # tax, and TAX-2's reverse-charge legend ("" for none).
    tax_summary: list[dict[str, Any]] = fields.JSONField(default=list)
    tax_total = fields.BigIntField(default=0)
    tax_legend = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    lines: fields.ReverseRelation[InvoiceLine]

    class Meta:
        table = "invoice"
        unique_together = (("organization", "sequence"),)
        ordering = ["-issued_at", "-sequence"]


class InvoiceLine(Model):
    id = fields.IntField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "gateway.Invoice", related_name="lines", on_delete=fields.CASCADE
    )
    invoice_id: UUID
    position = fields.IntField()
    description = fields.CharField(max_length=300)
    amount = fields.BigIntField()
    discount = fields.BigIntField(default=0)  # DSC-2: off `amount`, rounded once
    period_start = fields.DatetimeField(null=True)
    period_end = fields.DatetimeField(null=True)
    # TAX-1: the line's tax (rounded once) and the rate it was computed at (TaxRate.to_json()).
    tax = fields.BigIntField(default=0)
    tax_rate: dict[str, Any] | None = fields.JSONField(null=True)

    class Meta:
        table = "invoice_line"
        ordering = ["position"]


class Payment(Model):
    id = fields.UUIDField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "gateway.Invoice", related_name="payments", on_delete=fields.RESTRICT
    )
    invoice_id: UUID
    idempotency_key = fields.CharField(max_length=200, unique=True)
    processor_charge_id = fields.CharField(max_length=200, null=True)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    status = fields.CharField(max_length=32)
    failure_code = fields.CharField(max_length=64, null=True)
    # What the customer's browser needs to authenticate a payment that waits (CHG-5, DUN-6).
    client_secret = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When the charge was made by the billing clock (the sandbox's test clock included); null for
    # payments recorded before it was kept (created_at then).
    charged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment"


class PaymentMethod(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="payment_methods", on_delete=fields.CASCADE
    )
    organization_id: UUID
    processor_id = fields.CharField(max_length=200)
    brand = fields.CharField(max_length=32)
    last4 = fields.CharField(max_length=4)
    exp_month = fields.IntField()
    exp_year = fields.IntField()
    is_default = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_method"


class Refund(Model):
    # INV-5: a refund, full or partial, recorded against a paid invoice.
    id = fields.UUIDField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "gateway.Invoice", related_name="refunds", on_delete=fields.RESTRICT
    )
    invoice_id: UUID
    amount = fields.BigIntField()
    processor_refund_id = fields.CharField(max_length=200)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "refund"


class OrphanCharge(Model):
    # A charge the processor made but the gateway never recorded (a crash between the charge and
    # the write): found again by its metadata on a later tick, refunded once, its key retired.
    charge_id = fields.CharField(max_length=200, primary_key=True)
    idempotency_key = fields.CharField(max_length=300, unique=True)
    organization_id = fields.UUIDField(null=True)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    refund_id = fields.CharField(max_length=200)
    found_at = fields.DatetimeField()

    class Meta:
        table = "orphan_charge"


class Dispute(Model):
    # A dispute (chargeback) the processor reported on a paid invoice; a lost one is also
    # recorded as a Refund whose processor_refund_id is the dispute's id (INV-5).
    id = fields.UUIDField(primary_key=True)
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "gateway.Invoice", related_name="disputes", on_delete=fields.RESTRICT
    )
    invoice_id: UUID
    processor_dispute_id = fields.CharField(max_length=200, unique=True)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    reason = fields.CharField(max_length=100, default="")
    status = fields.CharEnumField(DisputeStatus, max_length=24)
    opened_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "dispute"
        ordering = ["opened_at"]
