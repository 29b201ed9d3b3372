from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0016_limit_notified')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Invoice',
            name='automatic_retries',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Organization',
            name='automatic_charges_pause_reason',
            field=fields.CharField(null=True, max_length=300),
        ),
        ops.AddField(
            model_name='Organization',
            name='failed_payment_method_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Payment',
            name='client_secret',
            field=fields.CharField(null=True, max_length=300),
        ),
    ]
