from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("gateway", "0031_disputes")]

    initial = False

    # Issue 18: documents e-mailed with their PDF to the billing e-mail, through an outbox of
    # their own (one row per document); the issuer's setting that turns it on. Finance exports:
    # when a payment was charged, by the billing clock.

    operations = [
        ops.CreateModel(
            name="DocumentEmail",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "organization",
                    fields.ForeignKeyField(
                        "gateway.Organization",
                        source_field="organization_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="document_emails",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=32)),
                ("document_id", fields.UUIDField()),
                ("number", fields.CharField(max_length=32)),
                ("recipient", fields.CharField(max_length=254)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "delivered_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("attempts", fields.IntField(default=0)),
                (
                    "next_attempt_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_error", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "document_email",
                "app": "gateway",
                "unique_together": (("kind", "document_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Payment",
            name="charged_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Issuer",
            name="email_documents",
            field=fields.BooleanField(default=False),
        ),
    ]
