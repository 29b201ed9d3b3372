import functools
from json import dumps, loads
from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from billing.credit_notes import CreditDestination


def _json(**kwargs):
    return fields.JSONField(
        encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads, **kwargs
    )


class Migration(migrations.Migration):
    dependencies = [("gateway", "0028_taxes")]

    initial = False

    # CRN-1: credit notes, numbered per organization like its invoices, with their lines.
    operations = [
        ops.AddField(
            model_name="Organization",
            name="credit_note_sequence",
            field=fields.IntField(default=0),
        ),
        ops.CreateModel(
            name="CreditNote",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ("organization", fields.ForeignKeyField("gateway.Organization", source_field="organization_id", db_constraint=True, to_field="id", related_name="credit_notes", on_delete=OnDelete.RESTRICT)),
                ("invoice", fields.ForeignKeyField("gateway.Invoice", source_field="invoice_id", db_constraint=True, to_field="id", related_name="credit_notes", on_delete=OnDelete.RESTRICT)),
                ("number", fields.CharField(max_length=40)),
                ("sequence", fields.IntField()),
                ("currency", fields.CharField(max_length=3)),
                ("subtotal", fields.BigIntField()),
                ("tax_total", fields.BigIntField(default=0)),
                ("total", fields.BigIntField()),
                ("tax_summary", _json(default=list)),
                ("reason", fields.TextField(default="", unique=False)),
                ("destination", fields.CharEnumField(description="REFUNDED_TO_CARD: REFUNDED_TO_CARD\nCREDIT_BALANCE: CREDIT_BALANCE", enum_type=CreditDestination, max_length=24)),
                ("processor_refund_id", fields.CharField(max_length=200, null=True)),
                ("billing_details", _json(default=dict)),
                ("issued_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "credit_note", "app": "gateway", "unique_together": (("organization", "sequence"),), "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CreditNoteLine",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("credit_note", fields.ForeignKeyField("gateway.CreditNote", source_field="credit_note_id", db_constraint=True, to_field="id", related_name="lines", on_delete=OnDelete.CASCADE)),
                ("position", fields.IntField()),
                ("description", fields.CharField(max_length=320)),
                ("amount", fields.BigIntField()),
                ("tax", fields.BigIntField(default=0)),
                ("tax_rate", _json(null=True)),
            ],
            options={"table": "credit_note_line", "app": "gateway", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
