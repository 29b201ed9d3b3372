import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


def _json(**kwargs):
    return fields.JSONField(
        encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads, **kwargs
    )


class Migration(migrations.Migration):
    dependencies = [("gateway", "0029_credit_notes")]

    initial = False

    # CUR-1: the on-demand block's price in the catalog's other currencies (a plan's, seat's,
    # add-on's and step's other-currency prices are price rows keyed "plan:12:MONTHLY:EUR").
    operations = [
        ops.AddField(
            model_name="ProductPolicy", name="on_demand_block_prices", field=_json(default=dict)
        ),
    ]
