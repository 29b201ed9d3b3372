from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0005_billing_information')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('prefix', fields.CharField(unique=True, max_length=16)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('scopes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('gateway.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.RESTRICT)),
                ('amount', fields.BigIntField()),
                ('processor_refund_id', fields.CharField(max_length=200)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refund', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
