"""The renewal at the end of a period (DUN-1): the terms in force from then, the new period and
the invoice's lines. The billing clock issues it; the upcoming invoice (a DRAFT, INV-1) shows it
beforehand from the same functions, so the two cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from billing import discounts
from billing.invoices import credit_applied
from billing.periods import period_containing
from billing.quote import Line
from billing.scheduled_change import ScheduledKind
from billing.subscription_status import SubscriptionStatus
from billing.tax import lines_total
from models import Organization, Subscription
from resolvers import discounts as discount_store
from resolvers.catalog import CatalogSnapshot
from resolvers.scheduled_changes import scheduled_changes
from resolvers.subscription_state import (
    ItemTerms,
    LoadedSubscription,
    load_prices,
    load_subscription,
)
from resolvers.taxes import taxed_for

S = SubscriptionStatus


@dataclass(frozen=True)
class UpcomingRenewal:
    """What the next renewal invoice will bill; computed, never stored."""

    currency: str
    period_start: datetime
    period_end: datetime
    lines: list[Line]
    credit_applied: int

    @property
    def total(self) -> int:
        return lines_total(self.lines)  # after discounts, with the lines' taxes (TAX-1)

    @property
    def discount_total(self) -> int:
        return discounts.total_discount(self.lines)

    @property
    def amount_due(self) -> int:
        return max(self.total, 0) - self.credit_applied


async def apply_scheduled_change(loaded: LoadedSubscription) -> list[ItemTerms]:
    """Every line's change scheduled for the period end takes effect in memory: `loaded.terms`
    (and, for an interval switch, the row's interval and anchor) as they are from then. Returns
    the changed lines' new terms for the caller to write; nothing is saved here."""
    row = loaded.row
    changed: list[ItemTerms] = []
    for product_id, change in scheduled_changes(loaded.items.values()).items():
        terms = ItemTerms.from_json(dict(change.terms))
        if change.kind is ScheduledKind.INTERVAL and change.interval is not None:
            # INT-1: the longer interval starts now, its first period paid when it was chosen.
            row.billing_interval = change.interval
            row.billing_anchor = row.current_period_end
            prepaid = 1
        else:
            prepaid = loaded.terms[product_id].prepaid_periods  # CHG-6; CHG-7's are kept
        changed.append(replace(terms, prepaid_periods=prepaid))
    for terms in changed:
        loaded.terms[terms.product_id] = terms
    await load_prices(loaded, [p for t in loaded.terms.values() for p in t.price_ids()])
    return changed


def renewal_period(row: Subscription) -> tuple[datetime, datetime]:
    # The next boundary counted from the anchor (MNY-3), even if this period ended off it.
    start = row.current_period_end
    _, end = period_containing(row.billing_anchor, row.billing_interval, start)
    return start, end


def renewal_lines(
    loaded: LoadedSubscription,
    start: datetime,
    end: datetime,
    discount: discounts.InForce | None = None,
) -> list[Line]:
    """One line per item for the new period, discounted while a coupon lasts (DSC-1); an item
    already paid for by a downgrade's credit (CHG-7) has none."""
    lines: list[Line] = []
    for terms in loaded.terms.values():
        if terms.prepaid_periods > 0:
            continue
        item = loaded.domain_item(terms)
        description = f"{item.describe()}, {start:%-d %b %Y} to {end:%-d %b %Y}"
        lines.append(
            Line(description, item.amount, start, end, product=item.product, plan=item.plan)
        )
    return list(discounts.discount_lines(lines, discount, loaded.row.currency))


def renews_at_period_end(row: Subscription) -> bool:
    # As the clock does: FROZEN ends in CANCELLED (DUN-3), CANCELLING ends unless its notice runs
    # past this period (CAN-2), a trial charges nothing (SUB-2).
    if row.status is S.CANCELLING:
        return row.cancel_at is not None and row.cancel_at > row.current_period_end
    return row.status in (S.ACTIVE, S.DOWNGRADING, S.PENDING_PAYMENT)


async def upcoming_renewal(
    organization_id: UUID, snapshot: CatalogSnapshot
) -> UpcomingRenewal | None:
    """INV-1: the DRAFT of the next renewal invoice, priced as the clock will price it."""
    organization = await Organization.get(id=organization_id)
    loaded = await load_subscription(organization, snapshot, lock=False)
    if loaded is None or not renews_at_period_end(loaded.row):
        return None
    await apply_scheduled_change(loaded)
    start, end = renewal_period(loaded.row)
    discount = await discount_store.at_renewal(organization.id, write=False)
    # DSC-2 then TAX-1: the lines discounted first, then taxed on what remains.
    lines = await taxed_for(organization.id, renewal_lines(loaded, start, end, discount))
    total = lines_total(lines)
    return UpcomingRenewal(
        currency=loaded.row.currency,
        period_start=start,
        period_end=end,
        lines=lines,
        credit_applied=credit_applied(organization.credit_balance, total),
    )
