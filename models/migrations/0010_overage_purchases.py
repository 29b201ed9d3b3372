from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0009_usage_thresholds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OveragePurchase',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.UUIDField()),
                ('product_id', fields.IntField()),
                ('metric', fields.CharField(max_length=32)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('volume', fields.BigIntField()),
                ('amount', fields.BigIntField()),
                ('invoice_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'overage_purchase', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
