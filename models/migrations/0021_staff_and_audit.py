from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('gateway', '0020_provisioning')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.CASCADE)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor_kind', fields.CharField(max_length=16)),
                ('actor_id', fields.UUIDField()),
                ('actor_label', fields.CharField(max_length=254)),
                ('client_address', fields.CharField(null=True, max_length=64)),
                ('action', fields.CharField(max_length=64)),
                ('summary', fields.TextField(unique=False)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('amount_subject', fields.CharField(null=True, max_length=32)),
                ('amount_before', fields.BigIntField(null=True)),
                ('amount_after', fields.BigIntField(null=True)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_entry', 'app': 'gateway', 'indexes': [Index(fields=['organization_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OfflinePayment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('gateway.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='offline_payments', on_delete=OnDelete.RESTRICT)),
                ('method', fields.CharField(max_length=32)),
                ('reference', fields.CharField(max_length=200)),
                ('amount', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'offline_payment', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
