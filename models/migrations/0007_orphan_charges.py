from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0006_api_keys_and_refunds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrphanCharge',
            fields=[
                ('charge_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('idempotency_key', fields.CharField(unique=True, max_length=300)),
                ('organization_id', fields.UUIDField(null=True)),
                ('amount', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('refund_id', fields.CharField(max_length=200)),
                ('found_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'orphan_charge', 'app': 'gateway', 'pk_attr': 'charge_id'},
            bases=['Model'],
        ),
    ]
