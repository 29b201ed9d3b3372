"""Indexes the billing clock reads by (issue 15). 0025 declared `subscription.next_due_at` with
db_index, but its AddField created no index on either dialect, so every claim scanned the table;
and the foreign keys the clock reads by (a renewal's card, payments and lines of an invoice, an
organization's notices and events, an event's deliveries) had none. The statements are the same
on SQLite and PostgreSQL; IF NOT EXISTS keeps a database that already has one as it is."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = (
    # The workers' claim: WHERE next_due_at <= $now ORDER BY next_due_at LIMIT n.
    ("subscription_next_due_at_idx", "subscription", "next_due_at"),
    # The renewal's default card (organization_id, is_default).
    ("payment_method_organization_idx", "payment_method", "organization_id, is_default"),
    ("payment_invoice_idx", "payment", "invoice_id"),
    ("invoice_line_invoice_idx", "invoice_line", "invoice_id, position"),
    ("notification_organization_idx", "notification", "organization_id, created_at"),
    ("webhook_event_organization_idx", "webhook_event", "organization_id, created_at"),
    ("webhook_delivery_event_idx", "webhook_delivery", "event_id"),
    # Open invoices of an organization (overdue, unpaid, stale changes): status after the org.
    ("invoice_organization_status_idx", "invoice", "organization_id, status"),
)


class Migration(migrations.Migration):
    dependencies = [("gateway", "0025_next_due_at")]

    initial = False

    operations = [
        ops.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
