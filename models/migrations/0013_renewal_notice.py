from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0012_notification_outbox')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Subscription',
            name='renewal_notice_for',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
