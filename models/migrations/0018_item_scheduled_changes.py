from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0017_payment_attempts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SubscriptionItem',
            name='scheduled_change',
            field=fields.JSONField(null=True),
        ),
        ops.RemoveField(
            model_name='Subscription',
            name='scheduled_change',
        ),
    ]
