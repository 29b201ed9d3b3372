from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0004_processor_customers_and_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BillingInfo',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('gateway.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='billing_info', on_delete=OnDelete.CASCADE)),
                ('company_name', fields.CharField(max_length=200)),
                ('billing_email', fields.CharField(max_length=254)),
                ('address_line1', fields.CharField(default='', max_length=200)),
                ('address_line2', fields.CharField(default='', max_length=200)),
                ('city', fields.CharField(default='', max_length=100)),
                ('postal_code', fields.CharField(default='', max_length=20)),
                ('country', fields.CharField(default='', max_length=2)),
                ('tax_id', fields.CharField(default='', max_length=50)),
                ('contact_name', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'billing_info', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Issuer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('address', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('email', fields.CharField(default='', max_length=254)),
                ('tax_id', fields.CharField(default='', max_length=50)),
            ],
            options={'table': 'issuer', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='billing_details',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
