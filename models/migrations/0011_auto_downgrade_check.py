from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0010_overage_purchases')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Subscription',
            name='auto_downgrade_checked_for',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
