"""An organization's subscription and its items (one item per product)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from billing.periods import BillingInterval
from billing.policies import UpgradePreference
from billing.schedule import RESCHEDULE
from billing.subscription_status import SubscriptionStatus
from models.catalog import AddOn, Plan, Price, Product
from models.organization import Organization


class Subscription(Model):
    id = fields.UUIDField(primary_key=True)
    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "gateway.Organization", related_name="subscription", on_delete=fields.CASCADE
    )
    organization_id: UUID
    status = fields.CharEnumField(SubscriptionStatus, max_length=32)
    billing_interval = fields.CharEnumField(BillingInterval, max_length=16)
    currency = fields.CharField(max_length=3)
    # MNY-3: periods are counted from this anchor so month ends return to the anchor day.
    billing_anchor = fields.DatetimeField()
    current_period_start = fields.DatetimeField()
    current_period_end = fields.DatetimeField()
    trial_ends_at = fields.DatetimeField(null=True)
    cancel_at = fields.DatetimeField(null=True)
    cancel_reason = fields.TextField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # PREF-3: the period end whose auto-downgrade check (24 hours before it) is done.
    auto_downgrade_checked_for = fields.DatetimeField(null=True)
    # NOT-1: the period end whose "upcoming renewal" notice has been sent.
    renewal_notice_for = fields.DatetimeField(null=True)
    # EVT-1: the trial end whose "trial ending" event (3 days before it) has been recorded.
    trial_ending_notice_for = fields.DatetimeField(null=True)
    # INV-4: usage months of this period that ended by then have had their usage invoice.
    usage_closed_until = fields.DatetimeField(null=True)
    # MNY-4: when the billing clock next has work here, in the gateway's own time (the test-clock
    # offset taken off); None when nothing will fall due. Workers claim rows by it
    # (resolvers/schedule_store.py); RESCHEDULE means "work it out on the next tick".
    next_due_at = fields.DatetimeField(null=True, db_index=True, default=RESCHEDULE)

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "subscription"


class SubscriptionItem(Model):
    id = fields.UUIDField(primary_key=True)
    subscription: fields.ForeignKeyRelation[Subscription] = fields.ForeignKeyField(
        "gateway.Subscription", related_name="items", on_delete=fields.CASCADE
    )
    subscription_id: UUID
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "gateway.Product", related_name="subscription_items", on_delete=fields.RESTRICT
    )
    product_id: int
    plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "gateway.Plan", related_name="subscription_items", on_delete=fields.RESTRICT
    )
    plan_id: int
    plan_price: fields.ForeignKeyRelation[Price] = fields.ForeignKeyField(
        "gateway.Price", related_name="plan_items", on_delete=fields.RESTRICT
    )
    plan_price_id: int
    seats = fields.IntField(null=True)
    seat_price: fields.ForeignKeyNullableRelation[Price] = fields.ForeignKeyField(
        "gateway.Price", related_name="seat_items", null=True, on_delete=fields.RESTRICT
    )
    seat_price_id: int | None
    contact_limit = fields.IntField(null=True)
    contact_limit_price: fields.ForeignKeyNullableRelation[Price] = fields.ForeignKeyField(
        "gateway.Price", related_name="contact_limit_items", null=True, on_delete=fields.RESTRICT
    )
    contact_limit_price_id: int | None
    upgrade_preference = fields.CharEnumField(UpgradePreference, max_length=32, null=True)
    auto_downgrade = fields.BooleanField(default=False)
    # Periods already paid for by a downgrade's credit (CHG-7): renewals skip this item till then.
    prepaid_periods = fields.IntField(default=0)
    # A change of this product line waiting for the period end (CHG-6, INT-1): the JSON form of
    # billing.scheduled_change.ScheduledChange, read and written only through it.
    scheduled_change: dict[str, Any] | None = fields.JSONField(null=True)
    seats_in_use = fields.IntField(null=True)
    # What is stored now per stock metric (profiles, contacts): CHG-1 blockers.
    stock: dict[str, int] = fields.JSONField(default=dict)

    class Meta:
        table = "subscription_item"
        unique_together = (("subscription", "product"),)


class SubscriptionItemAddOn(Model):
    id = fields.UUIDField(primary_key=True)
    item: fields.ForeignKeyRelation[SubscriptionItem] = fields.ForeignKeyField(
        "gateway.SubscriptionItem", related_name="add_ons", on_delete=fields.CASCADE
    )
    item_id: UUID
    add_on: fields.ForeignKeyRelation[AddOn] = fields.ForeignKeyField(
        "gateway.AddOn", related_name="subscription_items", on_delete=fields.RESTRICT
    )
    add_on_id: int
    price: fields.ForeignKeyRelation[Price] = fields.ForeignKeyField(
        "gateway.Price", related_name="add_on_items", on_delete=fields.RESTRICT
    )
    price_id: int

    class Meta:
        table = "subscription_item_add_on"
        unique_together = (("item", "add_on"),)
