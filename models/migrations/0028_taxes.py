import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


def _json(**kwargs):
    return fields.JSONField(
        encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads, **kwargs
    )


class Migration(migrations.Migration):
    dependencies = [("gateway", "0027_discounts")]

    initial = False

    # TAX-1, TAX-2: the billing address's region; the catalog's tax table and the seller's country on the issuer; each invoice
    # line's tax and rate; each invoice's tax per rate, its tax and the reverse-charge legend.
    operations = [
        ops.AddField(
            model_name="Issuer", name="country", field=fields.CharField(max_length=2, default="")
        ),
        ops.AddField(model_name="Issuer", name="taxes", field=_json(default=dict)),
        ops.AddField(
            model_name="BillingInfo", name="region", field=fields.CharField(max_length=3, default="")
        ),
        ops.AddField(model_name="InvoiceLine", name="tax", field=fields.BigIntField(default=0)),
        ops.AddField(model_name="InvoiceLine", name="tax_rate", field=_json(null=True)),
        ops.AddField(model_name="Invoice", name="tax_summary", field=_json(default=list)),
        ops.AddField(model_name="Invoice", name="tax_total", field=fields.BigIntField(default=0)),
        ops.AddField(model_name="Invoice", name="tax_legend", field=fields.TextField(default="")),
    ]
