"""Coupons, promotion codes, their redemptions and the discount in force (rules DSC-1, DSC-2).
Storage only; the rules are in billing.discounts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from billing.discounts import CouponDuration
from models.organization import Organization


class Coupon(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    duration = fields.CharEnumField(CouponDuration, max_length=16)
    duration_periods = fields.IntField(null=True)
    percent_off_bp = fields.IntField(null=True)  # 2000 = 20 %
    amounts_off: dict[str, Any] | None = fields.JSONField(null=True)  # currency -> minor units
    products: list[str] = fields.JSONField(default=list)  # empty: every product
    plans: list[str] = fields.JSONField(default=list)  # empty: every plan
    max_redemptions = fields.IntField(null=True)
    expires_at = fields.DatetimeField(null=True)
    from_catalog = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Who created it through the provisioning API (the platform key), never changed afterwards.
    created_by = fields.CharField(max_length=254, null=True)
    created_from = fields.CharField(max_length=64, null=True)  # the client's address

    class Meta:
        table = "coupon"


class PromotionCode(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)  # upper-case (case-insensitive)
    coupon: fields.ForeignKeyRelation[Coupon] = fields.ForeignKeyField(
        "gateway.Coupon", related_name="promotion_codes", on_delete=fields.RESTRICT
    )
    coupon_id: int
    first_subscription_only = fields.BooleanField(default=False)
    once_per_organization = fields.BooleanField(default=True)
    max_redemptions = fields.IntField(null=True)
    expires_at = fields.DatetimeField(null=True)
    active = fields.BooleanField(default=True)
    from_catalog = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Who created it through the provisioning API (the platform key), never changed afterwards.
    created_by = fields.CharField(max_length=254, null=True)
    created_from = fields.CharField(max_length=64, null=True)  # the client's address

    class Meta:
        table = "promotion_code"


class Redemption(Model):
    # One use of a promotion code by an organization, counted toward the limits (DSC-1).

    id = fields.IntField(primary_key=True)
    promotion_code: fields.ForeignKeyRelation[PromotionCode] = fields.ForeignKeyField(
        "gateway.PromotionCode", related_name="redemptions", on_delete=fields.RESTRICT
    )
    promotion_code_id: int
    coupon: fields.ForeignKeyRelation[Coupon] = fields.ForeignKeyField(
        "gateway.Coupon", related_name="redemptions", on_delete=fields.RESTRICT
    )
    coupon_id: int
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "gateway.Organization", related_name="redemptions", on_delete=fields.CASCADE
    )
    organization_id: UUID
    redeemed_at = fields.DatetimeField()

    class Meta:
        table = "redemption"


class SubscriptionDiscount(Model):
    # The discount in force for an organization's subscription, one at a time.

    id = fields.IntField(primary_key=True)
    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "gateway.Organization", related_name="discount", on_delete=fields.CASCADE
    )
    organization_id: UUID
    coupon: fields.ForeignKeyRelation[Coupon] = fields.ForeignKeyField(
        "gateway.Coupon", related_name="discounts", on_delete=fields.RESTRICT
    )
    coupon_id: int
    promotion_code: fields.ForeignKeyNullableRelation[PromotionCode] = fields.ForeignKeyField(
        "gateway.PromotionCode", related_name="discounts", null=True, on_delete=fields.SET_NULL
    )
    promotion_code_id: int | None
    applied_at = fields.DatetimeField()  # billing time
    # Periods left, counting the current one (None: for ever); 0 once it has ended.
    periods_left = fields.IntField(null=True)

    class Meta:
        table = "subscription_discount"
