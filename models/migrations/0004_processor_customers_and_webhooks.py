from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0003_dunning')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProcessedEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('type', fields.CharField(max_length=100)),
                ('outcome', fields.CharField(max_length=100)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'processed_event', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Organization',
            name='processor_customer_id',
            field=fields.CharField(null=True, max_length=200),
        ),
    ]
