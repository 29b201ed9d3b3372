from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from enum import StrEnum
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields



class CouponDuration(StrEnum):  # kept here, not imported, so the migration never changes
    ONCE = "ONCE"
    REPEATING = "REPEATING"
    FOREVER = "FOREVER"


class Migration(migrations.Migration):
    dependencies = [('gateway', '0026_due_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Coupon',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('duration', fields.CharEnumField(description='ONCE: ONCE\nREPEATING: REPEATING\nFOREVER: FOREVER', enum_type=CouponDuration, max_length=16)),
                ('duration_periods', fields.IntField(null=True)),
                ('percent_off_bp', fields.IntField(null=True)),
                ('amounts_off', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('products', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('plans', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('max_redemptions', fields.IntField(null=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('from_catalog', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('created_by', fields.CharField(null=True, max_length=254)),
                ('created_from', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'coupon', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PromotionCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('coupon', fields.ForeignKeyField('gateway.Coupon', source_field='coupon_id', db_constraint=True, to_field='id', related_name='promotion_codes', on_delete=OnDelete.RESTRICT)),
                ('first_subscription_only', fields.BooleanField(default=False)),
                ('once_per_organization', fields.BooleanField(default=True)),
                ('max_redemptions', fields.IntField(null=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('active', fields.BooleanField(default=True)),
                ('from_catalog', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('created_by', fields.CharField(null=True, max_length=254)),
                ('created_from', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'promotion_code', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Redemption',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('promotion_code', fields.ForeignKeyField('gateway.PromotionCode', source_field='promotion_code_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('coupon', fields.ForeignKeyField('gateway.Coupon', source_field='coupon_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.RESTRICT)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='redemptions', on_delete=OnDelete.CASCADE)),
                ('redeemed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'redemption', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubscriptionDiscount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='discount', on_delete=OnDelete.CASCADE)),
                ('coupon', fields.ForeignKeyField('gateway.Coupon', source_field='coupon_id', db_constraint=True, to_field='id', related_name='discounts', on_delete=OnDelete.RESTRICT)),
                ('promotion_code', fields.ForeignKeyField('gateway.PromotionCode', source_field='promotion_code_id', null=True, db_constraint=True, to_field='id', related_name='discounts', on_delete=OnDelete.SET_NULL)),
                ('applied_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('periods_left', fields.IntField(null=True)),
            ],
            options={'table': 'subscription_discount', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='discount_total',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='discount',
            field=fields.BigIntField(default=0),
        ),
    ]
