"""Tenants and people: organizations, users, their memberships (roles) and workspaces."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from billing.access import Role


class Organization(Model):
    id = fields.UUIDField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    currency = fields.CharField(max_length=3, default="USD")
    credit_balance = fields.BigIntField(default=0)  # INT-3, never negative
    invoice_sequence = fields.IntField(default=0)  # the last invoice number issued (INV-2)
    credit_note_sequence = fields.IntField(default=0)  # the last credit note number (CRN-1)
    data_delete_at = fields.DatetimeField(null=True)  # CAN-3
    data_deleted_at = fields.DatetimeField(null=True)
    # Sandbox test clock (MNY-4): how far this organization's billing time runs ahead of the
    # gateway's clock. Always 0 in production.
    clock_offset_seconds = fields.BigIntField(default=0)
    # DUN-5: a failed card payment switches off automatic upgrades and flexible overage until a
    # billing manager switches them on again.
    automatic_charges_paused = fields.BooleanField(default=False)
    # DUN-5: why they were paused, and the card whose payment failed (its processor id): switching
    # them on again is refused while that card is still the default.
    automatic_charges_pause_reason = fields.CharField(max_length=300, null=True)
    failed_payment_method_id = fields.CharField(max_length=200, null=True)
    processor_customer_id = fields.CharField(max_length=200, null=True)
    # PRV-1: the SaaS's own id for this organization; provisioning is idempotent by it.
    external_id = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organization"


class User(Model):
    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200)
    # PRV-1, PRV-2: the SaaS's own id for this person (its identity provider's subject).
    external_id = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_user"


class Membership(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="memberships", on_delete=fields.CASCADE
    )
    organization_id: UUID
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "gateway.User", related_name="memberships", on_delete=fields.CASCADE
    )
    user_id: UUID
    role = fields.CharEnumField(Role, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "membership"
        unique_together = (("organization", "user"),)
        # ACC-1: one owner per organization is a partial unique index created by migration
        # 0001 (Tortoise cannot declare partial indexes for SQLite).


class Workspace(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="workspaces", on_delete=fields.CASCADE
    )
    organization_id: UUID
    slug = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    # PRV-1: an archived workspace is kept (its usage history stays readable) but takes no usage.
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "workspace"
        unique_together = (("organization", "slug"),)


class BillingInfo(Model):
    # INV-3: what the next invoices are issued to; issued invoices keep their own copy.
    id = fields.IntField(primary_key=True)
    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "gateway.Organization", related_name="billing_info", on_delete=fields.CASCADE
    )
    organization_id: UUID
    company_name = fields.CharField(max_length=200)
    billing_email = fields.CharField(max_length=254)
    address_line1 = fields.CharField(max_length=200, default="")
    address_line2 = fields.CharField(max_length=200, default="")
    city = fields.CharField(max_length=100, default="")
    postal_code = fields.CharField(max_length=20, default="")
    country = fields.CharField(max_length=2, default="")
    # TAX-1: a region of the country (ISO 3166-2 subdivision code without the country, e.g.
    # QC), for rates set per region.
    region = fields.CharField(max_length=3, default="")
    tax_id = fields.CharField(max_length=50, default="")
    contact_name = fields.CharField(max_length=200, default="")

    class Meta:
        table = "billing_info"


class Issuer(Model):
    # Who issues the invoices (the company running the gateway), from the catalog file.
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    address: list[str] = fields.JSONField(default=list)
    email = fields.CharField(max_length=254, default="")
    tax_id = fields.CharField(max_length=50, default="")
    country = fields.CharField(max_length=2, default="")
    # TAX-1: the catalog's tax table (billing.tax.TaxTable.to_json()).
    taxes: dict[str, Any] = fields.JSONField(default=dict)
    # Issued documents are e-mailed with their PDF to the customer's billing e-mail.
    email_documents = fields.BooleanField(default=False)

    class Meta:
        table = "issuer"
