from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0023_notice_invoice')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PortalSession',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('secret_hash', fields.CharField(unique=True, max_length=64)),
                ('organization', fields.ForeignKeyField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='portal_sessions', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('gateway.User', source_field='user_id', db_constraint=True, to_field='id', related_name='portal_sessions', on_delete=OnDelete.CASCADE)),
                ('api_key', fields.ForeignKeyField('gateway.ApiKey', source_field='api_key_id', null=True, db_constraint=True, to_field='id', related_name='portal_sessions', on_delete=OnDelete.SET_NULL)),
                ('return_url', fields.CharField(max_length=2000)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'portal_session', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
