from datetime import UTC, datetime, timedelta

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Kept here, not imported, so the migration never changes (billing.schedule.RESCHEDULE).
RESCHEDULE = datetime(1970, 1, 1, tzinfo=UTC)
PERIOD_ENDS = {"ACTIVE", "DOWNGRADING", "CANCELLING", "FROZEN"}


def _aware(value):
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def earliest_due(row):
    """A due time never later than the schedule's own (billing.schedule): the first visit stores
    the exact one. In billing time; None when nothing can fall due."""
    found = []
    end, start = _aware(row["current_period_end"]), _aware(row["current_period_start"])
    trial_ends_at = _aware(row["trial_ends_at"])
    if row["status"] == "PENDING_PAYMENT" or (row["status"] == "TRIALING" and not trial_ends_at):
        return RESCHEDULE  # retries count from unpaid invoices: worked out on the first tick
    if row["status"] == "TRIALING":
        found.append(trial_ends_at - timedelta(days=3))  # EVT-1's notice
    if row["status"] in PERIOD_ENDS:
        found.append(end - timedelta(days=7))  # NOT-1; PREF-3 and the period end come later
        if row["billing_interval"] != "MONTHLY":  # INV-4: every month is 28 days or more
            found.append((_aware(row["usage_closed_until"]) or start) + timedelta(days=28))
    if row["data_deleted_at"] is None and row["data_delete_at"] is not None:
        found.append(_aware(row["data_delete_at"]))  # CAN-3
    return min(found, default=None)


async def backfill_next_due(apps, schema_editor):
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    mark = (lambda n: f"${n}") if postgres else (lambda n: "?")
    _, rows = await client.execute_query(
        "SELECT s.id, s.status, s.billing_interval, s.current_period_start, "
        "s.current_period_end, s.trial_ends_at, s.usage_closed_until, o.clock_offset_seconds, "
        "o.data_delete_at, o.data_deleted_at "
        "FROM subscription s JOIN organization o ON o.id = s.organization_id"
    )
    updates = []
    for row in rows:
        due = earliest_due(row)
        if due is not None and due is not RESCHEDULE:
            due -= timedelta(seconds=row["clock_offset_seconds"])
        updates.append([due, row["id"]])
    if updates:
        await client.execute_many(
            f"UPDATE subscription SET next_due_at = {mark(1)} WHERE id = {mark(2)}", updates
        )


class Migration(migrations.Migration):
    dependencies = [("gateway", "0024_portal_sessions")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Subscription",
            name="next_due_at",
            field=fields.DatetimeField(
                null=True, default=RESCHEDULE, db_index=True, auto_now=False, auto_now_add=False
            ),
        ),
        ops.RunPython(backfill_next_due, ops.RunPython.noop),
    ]
