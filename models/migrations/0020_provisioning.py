from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0019_idempotency_keys')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ApiKey',
            name='organization',
            field=fields.ForeignKeyField('gateway.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Organization',
            name='external_id',
            field=fields.CharField(null=True, unique=True, max_length=200),
        ),
        ops.AddField(
            model_name='User',
            name='external_id',
            field=fields.CharField(null=True, unique=True, max_length=200),
        ),
        ops.AddField(
            model_name='Workspace',
            name='archived_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
