"""Tier moves the billing clock makes by itself: auto-downgrade by profile count 24 hours before
the period ends (PREF-3) and autoscaling on the three-month average at renewal (PREF-4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from billing.catalog import Plan
from billing.money import Money
from billing.notifications import NotificationKind
from billing.scheduled_change import ScheduledChange, ScheduledKind, interval_switch
from billing.subscription_status import Event, transition
from billing.usage import Tier, auto_downgrade_tier, autoscale_tier
from models import ALL_WORKSPACES, Organization, UsageCounter
from resolvers.catalog import CatalogSnapshot
from resolvers.notices import notify
from resolvers.scheduled_changes import scheduled_changes, set_scheduled_change
from resolvers.subscription_state import (
    ChangeRequest,
    ItemTerms,
    LoadedSubscription,
    load_prices,
    wanted_terms,
)
from resolvers.subscription_writes import sync_feature_settings, write_item


async def send_renewal_notice(
    loaded: LoadedSubscription, organization: Organization, now: datetime
) -> str:
    """NOT-1: a week ahead, what the renewal will charge and when, as far as it is known."""
    row = loaded.row
    row.renewal_notice_for = row.current_period_end
    await row.save(update_fields=["renewal_notice_for", "updated_at"])
    message = await _renewal_message(loaded, organization, autoscale_pending=True)
    await notify(organization.id, NotificationKind.UPCOMING_RENEWAL, message, now)
    return f"{organization.name}: renewal notice sent"


async def correct_renewal_notice(
    loaded: LoadedSubscription,
    organization: Organization,
    now: datetime,
    why: str,
    *,
    autoscale_pending: bool,
) -> None:
    """NOT-1, PREF-3, PREF-4: a decision made after the notice that changes the renewal's amount
    (an auto-downgrade, autoscaling) is followed by a corrected notice."""
    if loaded.row.renewal_notice_for != loaded.row.current_period_end:
        return  # no notice for this renewal yet: the one to come states the new amount
    message = await _renewal_message(loaded, organization, autoscale_pending=autoscale_pending)
    await notify(
        organization.id, NotificationKind.UPCOMING_RENEWAL, f"Corrected: {why}. {message}", now
    )


async def _renewal_message(
    loaded: LoadedSubscription, organization: Organization, *, autoscale_pending: bool
) -> str:
    row = loaded.row
    when = f"{row.current_period_end.day} {row.current_period_end:%B %Y}"
    changes = scheduled_changes(loaded.items.values())
    switch = interval_switch(changes.values())
    if switch is not None:  # INT-1: the next period was paid when it was chosen
        return (
            f"Your subscription continues on {when}, billed {switch.value.lower()}, already paid."
        )
    terms = dict(loaded.terms)
    for product_id, change in changes.items():  # CHG-6: those lines renew on the new plan
        terms[product_id] = replace(
            ItemTerms.from_json(dict(change.terms)),
            prepaid_periods=terms[product_id].prepaid_periods,
        )
        await load_prices(loaded, terms[product_id].price_ids())
    amount = sum(item.amount for item in loaded.domain(terms).items if item.prepaid_periods == 0)
    message = f"Your subscription renews on {when} for {Money(amount, row.currency).formatted()}."
    credit = min(organization.credit_balance, amount)  # INT-3
    if credit:
        charged = Money(amount - credit, row.currency).formatted()
        message += f" Your credit balance pays {Money(credit, row.currency).formatted()} of it"
        message += f": {charged} will be charged."
    scaling = [
        p.name
        for p in loaded.snapshot.products
        if autoscale_pending and p.id in terms and loaded.snapshot.policies[p.id].autoscaling
    ]
    if scaling:  # PREF-4: decided at the renewal itself, on the month that is still running
        message += (
            f" {' and '.join(scaling)} may move to the tier of its three-month average usage"
            " at the renewal; you will be told if the amount changes."
        )
    return message


def _tiers(snapshot: CatalogSnapshot, plan: Plan, metric: str) -> list[tuple[Tier, Plan]]:
    plans = sorted(
        (
            p
            for p in snapshot.plans_by_product.get(plan.product_id, [])
            if p.bundle_id == plan.bundle_id and metric in p.limits
        ),
        key=lambda p: p.rank,
    )
    return [(Tier(p.code, p.limits[metric]), p) for p in plans]


async def check_auto_downgrade(
    loaded: LoadedSubscription, organization: Organization, now: datetime
) -> str:
    """PREF-3: evaluated once, 24 hours before the end: a later drop in profiles does not count."""
    row, snapshot = loaded.row, loaded.snapshot
    row.auto_downgrade_checked_for = row.current_period_end
    event = f"{organization.name}: auto-downgrade checked, no lower tier fits"
    for product_id, item in loaded.items.items():
        if not item.auto_downgrade or not snapshot.policies[product_id].auto_downgrade_available:
            continue
        if item.scheduled_change is not None:
            continue  # a change already scheduled for this line (an interval switch paid) stays
        plan = snapshot.plans_by_id[item.plan_id]
        tiers = _tiers(snapshot, plan, "profiles")
        profiles = loaded.terms[product_id].stock.get("profiles")
        current = next((tier for tier, p in tiers if p.id == plan.id), None)
        if profiles is None or current is None:
            continue
        lower = auto_downgrade_tier(profiles, current, [tier for tier, _ in tiers])
        if lower is None:
            continue
        product = next(p for p in snapshot.products if p.id == product_id)
        terms, _ = wanted_terms(loaded, ChangeRequest(product=product.code, plan=lower.code))
        change = ScheduledChange(ScheduledKind.DOWNGRADE, terms[product_id].to_json())
        await set_scheduled_change(item, change)
        row.status = transition(row.status, Event.SCHEDULE_DOWNGRADE)
        message = f"{product.name}: {profiles:,} profiles fit {lower.code}, from the next period."
        await notify(organization.id, NotificationKind.AUTO_DOWNGRADE, message, now)
        await correct_renewal_notice(
            loaded,
            organization,
            now,
            f"{product.name} moves down to {lower.code}",
            autoscale_pending=True,
        )
        event = f"{organization.name}: auto-downgrade to {lower.code} scheduled"
        break
    await row.save()
    return event


async def autoscale(
    loaded: LoadedSubscription, organization: Organization, now: datetime
) -> list[str]:
    """PREF-4: at renewal, the tier that holds the average of the last three billing months'
    usage (usage is counted per month, USE-2)."""
    events = []
    snapshot = loaded.snapshot
    for product_id, item in list(loaded.items.items()):
        if not snapshot.policies[product_id].autoscaling:
            continue
        product = next(p for p in snapshot.products if p.id == product_id)
        metric = product.metrics[0]
        counters = (
            await UsageCounter.filter(
                organization_id=organization.id,
                product_id=product_id,
                metric=metric,
                workspace=ALL_WORKSPACES,
                period_start__lt=loaded.row.current_period_end,
            )
            .order_by("-period_start")
            .limit(3)
        )
        history = [c.value for c in reversed(counters)]
        plan = snapshot.plans_by_id[item.plan_id]
        tiers = _tiers(snapshot, plan, metric)
        current = next((tier for tier, p in tiers if p.id == plan.id), None)
        if current is None:
            continue
        target = autoscale_tier(history, current, [tier for tier, _ in tiers])
        if target is None:
            continue
        terms, _ = wanted_terms(loaded, ChangeRequest(product=product.code, plan=target.code))
        await write_item(
            loaded.row, item, terms[product_id], loaded.terms[product_id].prepaid_periods
        )
        loaded.terms[product_id] = terms[product_id]
        await load_prices(loaded, terms[product_id].price_ids())
        await sync_feature_settings(organization.id, snapshot, loaded.terms.values())
        breakdown = " / ".join(f"{value:,}" for value in history)
        average = sum(history) // len(history)
        await notify(
            organization.id,
            NotificationKind.AUTOSCALE,
            f"{product.name}: {breakdown} {metric} in the last three billing months, "
            f"{average:,} on average: moved from {current.code} to {target.code} from this period.",
            now,
        )
        await correct_renewal_notice(
            loaded,
            organization,
            now,
            f"{product.name} autoscaled to {target.code}",
            autoscale_pending=False,
        )
        events.append(f"{organization.name}: autoscaled {product.code} to {target.code}")
    return events
