from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0022_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='invoice_id',
            field=fields.UUIDField(null=True),
        ),
    ]
