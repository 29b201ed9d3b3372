from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from billing.invoices import InvoiceKind, InvoiceStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccountChangeRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='account_change_requests', on_delete=OnDelete.CASCADE)),
                ('requested_by_id', fields.UUIDField()),
                ('message', fields.TextField(unique=False)),
                ('wanted', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='REQUESTED', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account_change_request', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeatureSetting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='feature_settings', on_delete=OnDelete.CASCADE)),
                ('feature', fields.CharField(max_length=64)),
                ('key', fields.CharField(max_length=64)),
                ('value', fields.TextField(unique=False)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'feature_setting', 'app': 'gateway', 'unique_together': (('organization', 'feature', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invoice',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('number', fields.CharField(max_length=32)),
                ('sequence', fields.IntField()),
                ('kind', fields.CharEnumField(description='SUBSCRIPTION: SUBSCRIPTION\nPLAN_CHANGE: PLAN_CHANGE\nUSAGE: USAGE', enum_type=InvoiceKind, max_length=16)),
                ('status', fields.CharEnumField(description='DRAFT: DRAFT\nOPEN: OPEN\nPAID: PAID\nUNCOLLECTIBLE: UNCOLLECTIBLE\nVOID: VOID\nREFUNDED: REFUNDED\nPARTIALLY_REFUNDED: PARTIALLY_REFUNDED', enum_type=InvoiceStatus, max_length=24)),
                ('currency', fields.CharField(max_length=3)),
                ('total', fields.BigIntField()),
                ('credit_applied', fields.BigIntField(default=0)),
                ('amount_due', fields.BigIntField()),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('period_start', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('pending_change', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'invoice', 'app': 'gateway', 'unique_together': (('organization', 'sequence'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvoiceLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('gateway.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('description', fields.CharField(max_length=300)),
                ('amount', fields.BigIntField()),
                ('period_start', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invoice_line', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('gateway.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('idempotency_key', fields.CharField(unique=True, max_length=200)),
                ('processor_charge_id', fields.CharField(null=True, max_length=200)),
                ('amount', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('status', fields.CharField(max_length=32)),
                ('failure_code', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentMethod',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='payment_methods', on_delete=OnDelete.CASCADE)),
                ('processor_id', fields.CharField(max_length=200)),
                ('brand', fields.CharField(max_length=32)),
                ('last4', fields.CharField(max_length=4)),
                ('exp_month', fields.IntField()),
                ('exp_year', fields.IntField()),
                ('is_default', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment_method', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Organization',
            name='clock_offset_seconds',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='Organization',
            name='data_delete_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Organization',
            name='data_deleted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Organization',
            name='invoice_sequence',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Subscription',
            name='cancelled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Subscription',
            name='scheduled_change',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='SubscriptionItem',
            name='prepaid_periods',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='SubscriptionItem',
            name='seats_in_use',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='SubscriptionItem',
            name='stock',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
