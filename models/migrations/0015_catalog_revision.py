from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0014_usage_months')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CatalogRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('revision', fields.CharField(max_length=36)),
            ],
            options={'table': 'catalog_revision', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
