from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0015_catalog_revision')]

    initial = False

    operations = [
        ops.AddField(
            model_name='UsageCounter',
            name='limit_notified',
            field=fields.BooleanField(default=False),
        ),
    ]
