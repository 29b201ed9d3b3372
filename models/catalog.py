"""The catalog: products, policies, plans (tiers and bundles), add-ons, ladders, prices."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from billing.catalog import PriceKind as PriceKind
from billing.periods import BillingInterval
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)


class Product(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    metrics: list[str] = fields.JSONField(default=list)
    intervals: list[str] = fields.JSONField(default=list)
    policy: fields.BackwardOneToOneRelation[ProductPolicy]

    class Meta:
        table = "product"
        ordering = ["position", "id"]


class ProductPolicy(Model):
    # CAT-7: how one product upgrades, downgrades, cancels, alerts and handles its limits.

    id = fields.IntField(primary_key=True)
    product: fields.OneToOneRelation[Product] = fields.OneToOneField(
        "gateway.Product", related_name="policy", on_delete=fields.CASCADE
    )
    product_id: int
    upgrade_proration = fields.CharEnumField(UpgradeProration, max_length=32)
    downgrade_timing = fields.CharEnumField(DowngradeTiming, max_length=32)
    cancellation_notice = fields.CharEnumField(CancellationNotice, max_length=32)
    retention_days = fields.IntField()
    alert_thresholds: list[int] = fields.JSONField(default=list)
    upgrade_preferences: list[str] = fields.JSONField(default=list)
    default_preference = fields.CharEnumField(UpgradePreference, max_length=32, null=True)
    auto_downgrade_available = fields.BooleanField(default=False)
    autoscaling = fields.BooleanField(default=False)
    billing_admin_may_cancel = fields.BooleanField(default=False)
    on_demand_metric = fields.CharField(max_length=64, null=True)
    on_demand_block_size = fields.IntField(null=True)
    on_demand_block_price = fields.BigIntField(null=True)
    # CUR-1: the block's price in the catalog's other currencies, e.g. {"EUR": 1000}.
    on_demand_block_prices: dict[str, int] = fields.JSONField(default=dict)

    class Meta:
        table = "product_policy"


class Bundle(Model):
    # CAT-5: plans of one product sold together with another product at their own price.

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "gateway.Product", related_name="bundles", on_delete=fields.CASCADE
    )
    product_id: int
    code = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    includes: list[str] = fields.JSONField(default=list)

    class Meta:
        table = "bundle"
        unique_together = (("product", "code"),)


class Plan(Model):
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "gateway.Product", related_name="plans", on_delete=fields.CASCADE
    )
    product_id: int
    bundle: fields.ForeignKeyNullableRelation[Bundle] = fields.ForeignKeyField(
        "gateway.Bundle", related_name="plans", null=True, on_delete=fields.CASCADE
    )
    bundle_id: int | None
    code = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    rank = fields.IntField()
    features: list[str] = fields.JSONField(default=list)
    limits: dict[str, int] = fields.JSONField(default=dict)
    seats_included = fields.IntField(null=True)
    max_seats = fields.IntField(null=True)

    class Meta:
        table = "plan"
        ordering = ["rank", "id"]


class AddOn(Model):
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "gateway.Product", related_name="add_ons", on_delete=fields.CASCADE
    )
    product_id: int
    code = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    min_plan_rank = fields.IntField(default=0)

    class Meta:
        table = "add_on"
        unique_together = (("product", "code"),)


class ContactLimitStep(Model):
    # One step of a product's contact-limit ladder (CAT-3).

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "gateway.Product", related_name="contact_limit_steps", on_delete=fields.CASCADE
    )
    product_id: int
    contact_limit = fields.IntField()

    class Meta:
        table = "contact_limit_step"
        unique_together = (("product", "contact_limit"),)
        ordering = ["contact_limit"]


class Price(Model):
    # One version of one price (CAT-6). A new amount is a new row with the next version;
    # subscription items keep pointing at the version they signed up on.

    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "gateway.Product", related_name="prices", on_delete=fields.CASCADE
    )
    product_id: int
    kind = fields.CharEnumField(PriceKind, max_length=16)
    plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "gateway.Plan", related_name="prices", null=True, on_delete=fields.CASCADE
    )
    plan_id: int | None
    add_on: fields.ForeignKeyNullableRelation[AddOn] = fields.ForeignKeyField(
        "gateway.AddOn", related_name="prices", null=True, on_delete=fields.CASCADE
    )
    add_on_id: int | None
    contact_limit_step: fields.ForeignKeyNullableRelation[ContactLimitStep] = (
        fields.ForeignKeyField(
            "gateway.ContactLimitStep", related_name="prices", null=True, on_delete=fields.CASCADE
        )
    )
    contact_limit_step_id: int | None
    interval = fields.CharEnumField(BillingInterval, max_length=16)
    # What this price is for, e.g. "plan:12:MONTHLY"; with `version` it names one row.
    key = fields.CharField(max_length=128)
    version = fields.IntField()
    is_current = fields.BooleanField(default=True)
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "price"
        unique_together = (("key", "version"),)


class CatalogRevision(Model):
    # One row, rewritten whenever the catalog is written, so a gateway process can keep its
    # catalog snapshot between requests and read this row instead of the whole catalog.
    id = fields.IntField(primary_key=True)
    revision = fields.CharField(max_length=36)

    class Meta:
        table = "catalog_revision"
