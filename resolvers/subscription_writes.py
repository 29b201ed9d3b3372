"""What a plan change, a scheduled change and a payment write to a subscription: its row, the
items whose terms differ (and their add-ons), the credit balance and the features' settings
(CHG-9, SUB-3, CAN-3); resolvers/plan_change.py decides what a change writes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise.expressions import Case, RawSQL, When

from billing import quote
from billing.schedule import RESCHEDULE
from billing.scheduled_change import has_downgrade
from billing.subscription_status import Event, SubscriptionStatus, transition
from models import (
    FeatureSetting,
    Organization,
    Subscription,
    SubscriptionItem,
    SubscriptionItemAddOn,
)
from resolvers.catalog import CatalogSnapshot
from resolvers.renewal import apply_scheduled_change
from resolvers.scheduled_changes import scheduled_changes
from resolvers.subscription_state import ItemTerms, LoadedSubscription


async def set_credit_balance(organization: Organization, balance: int) -> None:
    if organization.credit_balance != balance:
        organization.credit_balance = balance
        await organization.save(update_fields=["credit_balance"])


async def apply_result(
    loaded: LoadedSubscription,
    terms: dict[int, ItemTerms],
    result: quote.Subscription,
    credit_balance: int,
) -> None:
    """Writes what the change changed: the subscription's row, the items whose terms differ
    from those held (not the others), the credit balance if it moved, the features' settings."""
    row = loaded.row
    if row.status is SubscriptionStatus.CANCELLED:
        await replace_cancelled_subscription(loaded.organization)
    if row.status is not result.status:
        row.status = transition(
            row.status, Event.SUBSCRIBE
        )  # the only status a change sets (SUB-2)
    row.billing_interval = result.interval
    row.billing_anchor = result.anchor
    row.current_period_start = result.period_start
    row.current_period_end = result.period_end
    row.next_due_at = RESCHEDULE  # MNY-4: the clock works the due time out again
    if row._saved_in_db:
        await row.save(update_fields=_SUBSCRIPTION_FIELDS)
    else:
        await row.save()
    prepaid = {i.product: i.prepaid_periods for i in result.items}
    for product_id, item_terms in terms.items():
        code = loaded.snapshot.product(product_id).code
        item, held = loaded.items.get(product_id), loaded.terms.get(product_id)
        await write_item(row, item, item_terms, prepaid.get(code, 0), held=held)
    await set_credit_balance(loaded.organization, credit_balance)
    await sync_feature_settings(loaded.organization.id, loaded.snapshot, terms.values())


_SUBSCRIPTION_FIELDS = [
    "status",
    "billing_interval",
    "billing_anchor",
    "current_period_start",
    "current_period_end",
    "next_due_at",
    "updated_at",
]


async def apply_scheduled_changes(loaded: LoadedSubscription) -> list[str]:
    """At the end of the period, before the renewal: every line's scheduled change is written,
    as resolvers.renewal applies it (the upcoming invoice reads the same). The products changed."""
    row = loaded.row
    had_downgrade = has_downgrade(scheduled_changes(loaded.items.values()).values())
    changed = []
    for terms in await apply_scheduled_change(loaded):
        item = loaded.items[terms.product_id]
        item.scheduled_change = None
        await write_item(row, item, terms, terms.prepaid_periods)
        changed.append(loaded.snapshot.product(terms.product_id).code)
    if had_downgrade:
        await sync_feature_settings(row.organization_id, loaded.snapshot, loaded.terms.values())
        if row.status is SubscriptionStatus.DOWNGRADING:
            row.status = transition(row.status, Event.PERIOD_ENDS_RENEWED)
    return changed


async def replace_cancelled_subscription(organization: Organization) -> None:
    """SUB-3: a cancelled organization that subscribes again gets a new Subscription row. The
    old row goes (with its items): a fresh row carries none of the old one's per-period
    bookkeeping (cancellation, usage months closed, notices sent, auto-downgrade checks), and
    nothing else refers to it: invoices belong to the organization and stay (CAN-3). The model
    stays one-to-one with the organization."""
    await Subscription.filter(organization_id=organization.id).delete()
    # CAN-3: the organization is back, so no data deletion is due; a later cancellation sets a
    # new date (and may delete again).
    organization.data_delete_at = None
    organization.data_deleted_at = None
    await organization.save(update_fields=["data_delete_at", "data_deleted_at"])


async def write_item(
    row: Subscription,
    item: SubscriptionItem | None,
    terms: ItemTerms,
    prepaid: int,
    *,
    held: ItemTerms | None = None,
) -> None:
    """The item with these terms. `held`: the terms the stored item has (as loaded with it):
    then only the columns that differ are written, nothing when none does, and the add-ons only
    when they differ."""
    if item is None:
        item = SubscriptionItem(subscription=row, product_id=terms.product_id)
        held = None
    values: dict[str, Any] = {
        "plan_id": terms.plan_id,
        "plan_price_id": terms.plan_price_id,
        "seats": terms.seats,
        "seat_price_id": terms.seat_price_id,
        "contact_limit": terms.contact_limit,
        "contact_limit_price_id": terms.contact_limit_price_id,
        "upgrade_preference": terms.upgrade_preference,
        "prepaid_periods": prepaid,
    }
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    for name in changed:
        setattr(item, name, values[name])
    if held is None:
        await item.save()
    elif changed:
        await item.save(update_fields=changed)
    if held is not None and sorted(held.add_ons) == sorted(terms.add_ons):
        return
    if held is None or held.add_ons:
        await SubscriptionItemAddOn.filter(item_id=item.id).delete()
    if terms.add_ons:
        await SubscriptionItemAddOn.bulk_create(
            [
                SubscriptionItemAddOn(item=item, add_on_id=add_on_id, price_id=price_id)
                for add_on_id, price_id in terms.add_ons
            ]
        )


# Literals, not parameters: PostgreSQL types a CASE of parameters as text. (Tortoise takes any
# pypika term here; its annotations name only its own expressions.)


# Literals, not parameters: PostgreSQL types a CASE of parameters as text. (Tortoise takes any
# pypika term here; its annotations name only its own expressions.)
_TRUE: Any = RawSQL("TRUE")


_FALSE: Any = RawSQL("FALSE")


async def sync_feature_settings(
    organization_id: UUID, snapshot: CatalogSnapshot, terms: Any
) -> None:
    # CHG-9: settings of features the plans no longer have are kept, inactive; they come back.
    features = sorted({f for t in terms for f in snapshot.plans_by_id[t.plan_id].features})
    active = Case(When(feature__in=features, then=_TRUE), default=_FALSE)
    await FeatureSetting.filter(organization_id=organization_id).update(active=active)
