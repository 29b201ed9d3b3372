from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from billing.access import Role
from billing.periods import BillingInterval
from billing.policies import CancellationNotice, DowngradeTiming, UpgradePreference, UpgradeProration
from billing.subscription_status import SubscriptionStatus
from json import dumps, loads
from models.catalog import PriceKind
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('currency', fields.CharField(default='USD', max_length=3)),
                ('credit_balance', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organization', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('position', fields.IntField(default=0)),
                ('metrics', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('intervals', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'product', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AddOn',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='add_ons', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('min_plan_rank', fields.IntField(default=0)),
            ],
            options={'table': 'add_on', 'app': 'gateway', 'unique_together': (('product', 'code'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Bundle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='bundles', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('includes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'bundle', 'app': 'gateway', 'unique_together': (('product', 'code'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactLimitStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='contact_limit_steps', on_delete=OnDelete.CASCADE)),
                ('contact_limit', fields.IntField()),
            ],
            options={'table': 'contact_limit_step', 'app': 'gateway', 'unique_together': (('product', 'contact_limit'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Plan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='plans', on_delete=OnDelete.CASCADE)),
                ('bundle', fields.ForeignKeyField('gateway.Bundle', source_field='bundle_id', null=True, db_constraint=True, to_field='id', related_name='plans', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('rank', fields.IntField()),
                ('features', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('limits', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('seats_included', fields.IntField(null=True)),
                ('max_seats', fields.IntField(null=True)),
            ],
            options={'table': 'plan', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Price',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='prices', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PLAN: PLAN\nSEAT: SEAT\nADD_ON: ADD_ON\nCONTACT_LIMIT: CONTACT_LIMIT', enum_type=PriceKind, max_length=16)),
                ('plan', fields.ForeignKeyField('gateway.Plan', source_field='plan_id', null=True, db_constraint=True, to_field='id', related_name='prices', on_delete=OnDelete.CASCADE)),
                ('add_on', fields.ForeignKeyField('gateway.AddOn', source_field='add_on_id', null=True, db_constraint=True, to_field='id', related_name='prices', on_delete=OnDelete.CASCADE)),
                ('contact_limit_step', fields.ForeignKeyField('gateway.ContactLimitStep', source_field='contact_limit_step_id', null=True, db_constraint=True, to_field='id', related_name='prices', on_delete=OnDelete.CASCADE)),
                ('interval', fields.CharEnumField(description='MONTHLY: MONTHLY\nQUARTERLY: QUARTERLY\nSEMIANNUAL: SEMIANNUAL\nANNUAL: ANNUAL', enum_type=BillingInterval, max_length=16)),
                ('key', fields.CharField(max_length=128)),
                ('version', fields.IntField()),
                ('is_current', fields.BooleanField(default=True)),
                ('amount', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'price', 'app': 'gateway', 'unique_together': (('key', 'version'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProductPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.OneToOneField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='policy', on_delete=OnDelete.CASCADE)),
                ('upgrade_proration', fields.CharEnumField(description='PRORATE_KEEP_CYCLE: PRORATE_KEEP_CYCLE\nRESET_CYCLE: RESET_CYCLE', enum_type=UpgradeProration, max_length=32)),
                ('downgrade_timing', fields.CharEnumField(description='END_OF_PERIOD: END_OF_PERIOD\nIMMEDIATE_WITH_CREDIT: IMMEDIATE_WITH_CREDIT\nBY_REQUEST: BY_REQUEST', enum_type=DowngradeTiming, max_length=32)),
                ('cancellation_notice', fields.CharEnumField(description='END_OF_PERIOD: END_OF_PERIOD\nMONTH_PLUS_REMAINDER: MONTH_PLUS_REMAINDER', enum_type=CancellationNotice, max_length=32)),
                ('retention_days', fields.IntField()),
                ('alert_thresholds', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('upgrade_preferences', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('default_preference', fields.CharEnumField(null=True, description='NONE: NONE\nAUTO_UPGRADE: AUTO_UPGRADE\nFLEXIBLE_OVERAGE: FLEXIBLE_OVERAGE\nON_DEMAND: ON_DEMAND', enum_type=UpgradePreference, max_length=32)),
                ('auto_downgrade_available', fields.BooleanField(default=False)),
                ('autoscaling', fields.BooleanField(default=False)),
                ('billing_admin_may_cancel', fields.BooleanField(default=False)),
                ('on_demand_metric', fields.CharField(null=True, max_length=64)),
                ('on_demand_block_size', fields.IntField(null=True)),
                ('on_demand_block_price', fields.BigIntField(null=True)),
            ],
            options={'table': 'product_policy', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Subscription',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='subscription', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(description='TRIALING: TRIALING\nTRIAL_ENDED: TRIAL_ENDED\nACTIVE: ACTIVE\nDOWNGRADING: DOWNGRADING\nCANCELLING: CANCELLING\nPENDING_PAYMENT: PENDING_PAYMENT\nFROZEN: FROZEN\nCANCELLED: CANCELLED', enum_type=SubscriptionStatus, max_length=32)),
                ('billing_interval', fields.CharEnumField(description='MONTHLY: MONTHLY\nQUARTERLY: QUARTERLY\nSEMIANNUAL: SEMIANNUAL\nANNUAL: ANNUAL', enum_type=BillingInterval, max_length=16)),
                ('currency', fields.CharField(max_length=3)),
                ('billing_anchor', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('current_period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('current_period_end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('trial_ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'subscription', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubscriptionItem',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('subscription', fields.ForeignKeyField('gateway.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('gateway.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='subscription_items', on_delete=OnDelete.RESTRICT)),
                ('plan', fields.ForeignKeyField('gateway.Plan', source_field='plan_id', db_constraint=True, to_field='id', related_name='subscription_items', on_delete=OnDelete.RESTRICT)),
                ('plan_price', fields.ForeignKeyField('gateway.Price', source_field='plan_price_id', db_constraint=True, to_field='id', related_name='plan_items', on_delete=OnDelete.RESTRICT)),
                ('seats', fields.IntField(null=True)),
                ('seat_price', fields.ForeignKeyField('gateway.Price', source_field='seat_price_id', null=True, db_constraint=True, to_field='id', related_name='seat_items', on_delete=OnDelete.RESTRICT)),
                ('contact_limit', fields.IntField(null=True)),
                ('contact_limit_price', fields.ForeignKeyField('gateway.Price', source_field='contact_limit_price_id', null=True, db_constraint=True, to_field='id', related_name='contact_limit_items', on_delete=OnDelete.RESTRICT)),
                ('upgrade_preference', fields.CharEnumField(null=True, description='NONE: NONE\nAUTO_UPGRADE: AUTO_UPGRADE\nFLEXIBLE_OVERAGE: FLEXIBLE_OVERAGE\nON_DEMAND: ON_DEMAND', enum_type=UpgradePreference, max_length=32)),
                ('auto_downgrade', fields.BooleanField(default=False)),
            ],
            options={'table': 'subscription_item', 'app': 'gateway', 'unique_together': (('subscription', 'product'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubscriptionItemAddOn',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('item', fields.ForeignKeyField('gateway.SubscriptionItem', source_field='item_id', db_constraint=True, to_field='id', related_name='add_ons', on_delete=OnDelete.CASCADE)),
                ('add_on', fields.ForeignKeyField('gateway.AddOn', source_field='add_on_id', db_constraint=True, to_field='id', related_name='subscription_items', on_delete=OnDelete.RESTRICT)),
                ('price', fields.ForeignKeyField('gateway.Price', source_field='price_id', db_constraint=True, to_field='id', related_name='add_on_items', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'subscription_item_add_on', 'app': 'gateway', 'unique_together': (('item', 'add_on'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'app_user', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('gateway.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='OWNER: OWNER\nBILLING_ADMIN: BILLING_ADMIN\nADMIN: ADMIN\nMEMBER: MEMBER', enum_type=Role, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'membership', 'app': 'gateway', 'unique_together': (('organization', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Workspace',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='workspaces', on_delete=OnDelete.CASCADE)),
                ('slug', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
            ],
            options={'table': 'workspace', 'app': 'gateway', 'unique_together': (('organization', 'slug'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        # ACC-1: exactly one owner per organization.
    ops.RunSQL(
        "CREATE UNIQUE INDEX membership_one_owner ON membership (organization_id) WHERE role = 'OWNER'",
        reverse_sql="DROP INDEX membership_one_owner",
    ),
]
