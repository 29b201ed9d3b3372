from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('gateway', '0008_metering')]

    initial = False

    operations = [
        ops.AddField(
            model_name='UsageCounter',
            name='notified_thresholds',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
