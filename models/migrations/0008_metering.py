from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0007_orphan_charges')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActiveContact',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.UUIDField()),
                ('product_id', fields.IntField()),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('workspace', fields.CharField(max_length=64)),
                ('contact_id', fields.CharField(max_length=100)),
            ],
            options={'table': 'active_contact', 'app': 'gateway', 'unique_together': (('organization_id', 'product_id', 'period_start', 'workspace', 'contact_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.UUIDField()),
                ('product_id', fields.IntField()),
                ('metric', fields.CharField(max_length=32)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('workspace', fields.CharField(max_length=64)),
                ('value', fields.BigIntField(default=0)),
            ],
            options={'table': 'usage_counter', 'app': 'gateway', 'unique_together': (('organization_id', 'product_id', 'metric', 'period_start', 'workspace'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.UUIDField()),
                ('event_id', fields.CharField(max_length=100)),
                ('product_id', fields.IntField()),
                ('metric', fields.CharField(max_length=32)),
                ('quantity', fields.BigIntField()),
                ('contact_id', fields.CharField(null=True, max_length=100)),
                ('workspace', fields.CharField(max_length=64)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'usage_event', 'app': 'gateway', 'unique_together': (('organization_id', 'event_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
