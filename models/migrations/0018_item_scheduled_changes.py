import json

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


def split_subscription_change(change):
    """CHG-6: a subscription-level scheduled change as the per-line changes it stands for:
    [(product id, the line's change)]. Kept here, not imported, so the migration never changes."""
    if change.get("kind") == "downgrade":
        return [(change["product_id"], {"kind": "downgrade", "terms": change["terms"]})]
    if change.get("kind") == "interval":
        return [
            (terms["product_id"], {"kind": "interval", "terms": terms, "interval": change["interval"]})
            for terms in change["terms"]
        ]
    return []


async def move_scheduled_changes(apps, schema_editor):
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    mark = (lambda n: f"${n}") if postgres else (lambda n: "?")
    _, rows = await client.execute_query(
        "SELECT id, scheduled_change FROM subscription WHERE scheduled_change IS NOT NULL"
    )
    for row in rows:
        change = row["scheduled_change"]
        change = json.loads(change) if isinstance(change, str) else change
        for product_id, item_change in split_subscription_change(change or {}):
            await client.execute_query(
                f"UPDATE subscription_item SET scheduled_change = {mark(1)} "
                f"WHERE subscription_id = {mark(2)} AND product_id = {mark(3)}",
                [json.dumps(item_change), row["id"], product_id],
            )


class DropColumn(ops.RemoveField):
    """RemoveField without SQLite's table rebuild: the rebuild drops the old table while foreign
    keys are on, and ON DELETE CASCADE would take every subscription item with it. SQLite (3.35
    and later) drops a plain column in place."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is None or state_editor.client.capabilities.dialect != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        await state_editor.client.execute_script(
            f'ALTER TABLE "subscription" DROP COLUMN "{self.name}"'
        )


class Migration(migrations.Migration):
    dependencies = [('gateway', '0017_payment_attempts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SubscriptionItem',
            name='scheduled_change',
            field=fields.JSONField(null=True),
        ),
        ops.RunPython(move_scheduled_changes, ops.RunPython.noop),
        DropColumn(
            model_name='Subscription',
            name='scheduled_change',
        ),
    ]
