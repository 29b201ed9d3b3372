from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from billing.disputes import DisputeStatus


class Migration(migrations.Migration):
    dependencies = [("gateway", "0030_currencies")]

    initial = False

    # INV-5: disputes (chargebacks) the processor reports on a paid invoice.
    operations = [
        ops.CreateModel(
            name="Dispute",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "invoice",
                    fields.ForeignKeyField(
                        "gateway.Invoice",
                        source_field="invoice_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="disputes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("processor_dispute_id", fields.CharField(unique=True, max_length=200)),
                ("amount", fields.BigIntField()),
                ("currency", fields.CharField(max_length=3)),
                ("reason", fields.CharField(default="", max_length=100)),
                (
                    "status",
                    fields.CharEnumField(enum_type=DisputeStatus, max_length=24),
                ),
                ("opened_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "dispute", "app": "gateway", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
