from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0013_renewal_notice')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Subscription',
            name='usage_closed_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
