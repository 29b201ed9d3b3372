from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0019_idempotency_keys')]

    initial = False

    operations = [
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
    ]
