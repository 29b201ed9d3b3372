"""Plan-change quotes (rules CHG-1 to CHG-11, INT-1 to INT-3): what a change costs, line by line,
and what it does to the subscription. The same function serves the preview and the apply (CHG-2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from billing import discounts
from billing.blockers import Blocker as Blocker
from billing.blockers import BlockerCode as BlockerCode
from billing.blockers import (
    overdue_blockers,
    status_blockers,
    stock_blockers,
    waiting_blockers,
)
from billing.credit_notes import ChangeSplit, split_change
from billing.invoices import credit_applied as invoice_credit
from billing.periods import BillingInterval, shift_months
from billing.policies import DowngradeTiming, UpgradeProration
from billing.proration import prorate, remaining_fraction
from billing.subscription_status import SubscriptionStatus
from billing.tax import TaxRate, lines_total, tax_lines
from billing.terms import TermsKey, same_terms

MAX_PREPAID_PERIODS = 120


class ChangeKind(StrEnum):
    NEW = "NEW"
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"
    NO_CHANGE = "NO_CHANGE"


class ChangeTiming(StrEnum):
    IMMEDIATE = "IMMEDIATE"
    END_OF_PERIOD = "END_OF_PERIOD"
    BY_REQUEST = "BY_REQUEST"


@dataclass(frozen=True)
class Item:
    """One product line of a subscription, priced for the subscription's interval."""

    product: str
    product_name: str
    plan: str
    plan_name: str
    amount: int  # per period, plan + ladder step + extra seats + add-ons
    features: frozenset[str] = frozenset()
    limits: Mapping[str, int] = field(default_factory=dict)
    bundle: str | None = None
    seats: int | None = None
    max_seats: int | None = None
    contact_limit: int | None = None
    add_ons: tuple[str, ...] = ()
    prepaid_periods: int = 0

    def terms_key(self) -> TermsKey:
        plan = (self.bundle, self.plan)
        return TermsKey(plan, self.seats, self.contact_limit, tuple(sorted(self.add_ons)))

    def describe(self) -> str:
        details = []
        if self.contact_limit is not None:
            details.append(f"{self.contact_limit:,} contacts")
        if self.seats is not None:
            details.append(f"{self.seats} seat{'s' if self.seats != 1 else ''}")
        details += list(self.add_ons)
        # "Email 1,000" already names its product; "Messaging Growth" needs it.
        same = self.plan_name.lower().startswith(self.product_name.lower())
        name = self.plan_name if same else f"{self.product_name} {self.plan_name}"

        return f"{name} ({', '.join(details)})" if details else name


@dataclass(frozen=True)
class Subscription:
    status: SubscriptionStatus
    interval: BillingInterval
    anchor: datetime
    period_start: datetime
    period_end: datetime
    currency: str
    items: tuple[Item, ...]
    credit_balance: int = 0

    def item(self, product: str) -> Item | None:
        return next((i for i in self.items if i.product == product), None)

    @property
    def amount(self) -> int:
        return sum(i.amount for i in self.items)


@dataclass(frozen=True)
class Policy:
    upgrade: UpgradeProration
    downgrade: DowngradeTiming


@dataclass(frozen=True)
class Facts:
    """What the gateway knows about the organization beyond the subscription (CHG-1 blockers)."""

    stock: Mapping[str, int] = field(default_factory=dict)  # metric -> stored now
    seats_in_use: int | None = None
    has_payment_method: bool = False
    overdue_invoices: int = 0
    interval_switch_pending: bool = False
    # CHG-6: what the changed product line becomes at the period end, if a downgrade waits.
    scheduled_downgrade: Item | None = None
    payment_waiting: bool = False  # an earlier change waits for the customer's authentication
    # CHG-4, USE-6: usage billed when the period it belongs to ends early (on-demand blocks).
    usage_charges: tuple[Line, ...] = ()
    # DSC-2: the coupon in force (or the one a promotion code applies with this change).
    discount: discounts.InForce | None = None
    # TAX-1: the rate of the billing address the invoice is issued with (None: untaxed), and the
    # rate of the charge a credit for unused time reverses (None: the same rate).
    tax: TaxRate | None = None
    reversed_tax: TaxRate | None = None


@dataclass(frozen=True)
class Line:
    description: str
    amount: int
    period_start: datetime | None = None
    period_end: datetime | None = None
    # DSC-2: what a discount takes off `amount` (rounded once, never more than it); 0 for none.
    discount: int = 0
    # TAX-1: the tax on `amount - discount` at the line's rate (rounded once); 0 for none.
    tax: int = 0
    # DSC-1: the product and plan the line bills, for coupons limited to them; None for neither.
    product: str | None = None
    plan: str | None = None
    # TAX-1: the rate `tax` was computed at (inclusive or exclusive); None before taxes apply.
    tax_rate: TaxRate | None = None


@dataclass(frozen=True)
class Quote:
    kind: ChangeKind
    timing: ChangeTiming
    currency: str
    lines: tuple[Line, ...]
    credit_applied: int
    amount_due_now: int
    credit_balance_after: int
    recurring_amount: int
    effective_at: datetime
    next_billing_date: datetime | None
    features_lost: tuple[str, ...]
    blockers: tuple[Blocker, ...]
    # What applying it does to the subscription: its terms from `effective_at`.
    result: Subscription
    # INT-1: the longer interval starts when the current period ends, already paid for.
    interval_switch_at: datetime | None = None
    # CHG-6: applying it replaces the downgrade scheduled for the changed line.
    replaces_scheduled_change: bool = False
    # What applying it also does, in words a person reads (CHG-6).
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """What the lines cost with their discounts and taxes (MNY-2, TAX-1)."""
        return lines_total(self.lines)

    @property
    def discount_total(self) -> int:
        return discounts.total_discount(self.lines)

    @property
    def issued(self) -> ChangeSplit:
        """CRN-1: the invoice's lines (never a negative total) and the credit note's, if any."""
        return split_change(self.lines)


@dataclass(frozen=True)
class LineChange:
    """Which product line changes, under its product's policy, and when it is asked."""

    product: str
    policy: Policy
    now: datetime


def quote(current: Subscription, wanted: Subscription, line: LineChange, facts: Facts) -> Quote:
    """`wanted` is `current` with the requested product line (and possibly the interval) changed,
    every item priced for the wanted interval."""
    new = wanted.item(line.product)
    if new is None:
        raise ValueError("the wanted subscription must contain the changed product")
    blockers = list(status_blockers(current))
    blockers += overdue_blockers(current, facts)
    blockers += stock_blockers(new, facts)
    blockers += waiting_blockers(facts)
    draft = _draft(current, wanted, new, line, facts)
    if draft.interval_change_with_terms:
        blockers.append(
            Blocker(
                BlockerCode.INTERVAL_CHANGE_ALONE,
                "Change the billing interval on its own, then the plan.",
            )
        )
    return _finish(current, draft, line.now, facts, blockers)


def _draft(
    current: Subscription, wanted: Subscription, new: Item, line: LineChange, facts: Facts
) -> _Draft:
    """The change by kind and policy: what it charges and what the subscription becomes."""
    old, now, policy = current.item(line.product), line.now, line.policy
    if current.status in STARTS_A_PAID_PERIOD:
        return _start_paid_period(current, wanted, now)
    if wanted.interval != current.interval:
        draft = _switch_interval(current, wanted, now)
        draft.interval_change_with_terms = old is None or not same_terms(old, new)
        return draft
    if old is not None and same_terms(old, new):
        return _Draft(ChangeKind.NO_CHANGE, ChangeTiming.IMMEDIATE, [], now, current)
    if old is None or new.amount >= old.amount:
        kind = ChangeKind.NEW if old is None else ChangeKind.UPGRADE
        if policy.upgrade is UpgradeProration.RESET_CYCLE:
            draft = _reset_cycle(current, wanted, now, kind)
            draft.lines += facts.usage_charges  # the period they belong to ends now
            return draft
        return _prorate_keep_cycle(current, wanted, new, now, kind)
    if policy.downgrade is DowngradeTiming.END_OF_PERIOD:
        return _Draft(
            ChangeKind.DOWNGRADE, ChangeTiming.END_OF_PERIOD, [], current.period_end, wanted
        )
    if policy.downgrade is DowngradeTiming.IMMEDIATE_WITH_CREDIT:
        return _immediate_with_credit(current, wanted, old, new, now)
    return _Draft(ChangeKind.DOWNGRADE, ChangeTiming.BY_REQUEST, [], now, current, target=wanted)


@dataclass
class _Draft:
    kind: ChangeKind
    timing: ChangeTiming
    lines: list[Line]
    effective_at: datetime
    result: Subscription
    interval_switch_at: datetime | None = None
    # What the customer would get, when it differs from what applying does now (CHG-8).
    target: Subscription | None = None
    # An interval switch that also changes the line's terms is refused: one at a time.
    interval_change_with_terms: bool = False


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _on(moment: datetime) -> str:
    """ "12 Mar 2026": in English whatever the server's locale (strftime's %b is the locale's)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def _unused(item: Item, current: Subscription, now: datetime) -> list[Line]:
    fraction = remaining_fraction(current.period_start, current.period_end, now)
    lines = [
        Line(
            f"Unused time on {item.describe()} after {_on(now)}",
            -prorate(item.amount, fraction),
            now,
            current.period_end,
            product=item.product,
            plan=item.plan,
        )
    ]
    if item.prepaid_periods:  # CHG-7 credit already turned into whole periods comes back whole
        end = shift_months(current.period_end, item.prepaid_periods * current.interval.months)
        lines.append(
            Line(
                f"Unused prepaid periods of {item.describe()}, "
                f"{_on(current.period_end)} to {_on(end)}",
                -item.prepaid_periods * item.amount,
                current.period_end,
                end,
                product=item.product,
                plan=item.plan,
            )
        )
    return lines


def _remaining(item: Item, current: Subscription, now: datetime) -> Line:
    fraction = remaining_fraction(current.period_start, current.period_end, now)
    return Line(
        f"Remaining time on {item.describe()} after {_on(now)}",
        prorate(item.amount, fraction),
        now,
        current.period_end,
        product=item.product,
        plan=item.plan,
    )


def _full_period(item: Item, start: datetime, end: datetime) -> Line:
    description = f"{item.describe()}, {_on(start)} to {_on(end)}"
    return Line(description, item.amount, start, end, product=item.product, plan=item.plan)


def _prorate_keep_cycle(
    current: Subscription, wanted: Subscription, new: Item, now: datetime, kind: ChangeKind
) -> _Draft:
    # CHG-3: the difference for the rest of the period; period and renewal date unchanged.
    old = current.item(new.product)
    lines = [] if old is None else _unused(old, current, now)
    lines.append(_remaining(new, current, now))
    return _Draft(kind, ChangeTiming.IMMEDIATE, lines, now, _credited(wanted, {new.product}))


def _reset_cycle(
    current: Subscription, wanted: Subscription, now: datetime, kind: ChangeKind
) -> _Draft:
    # CHG-4: a new period for the whole subscription from now; every item credited its unused
    # time and charged a full new period.
    end = shift_months(now, wanted.interval.months)
    lines = [line for item in current.items for line in _unused(item, current, now)]
    lines += [_full_period(item, now, end) for item in wanted.items]
    result = replace(_credited(wanted, None), anchor=now, period_start=now, period_end=end)
    return _Draft(kind, ChangeTiming.IMMEDIATE, lines, now, result)


# SUB-2, SUB-3: subscribing from (or after) a trial, or again after a cancellation (a new
# subscription: `current` then has no items), starts a paid period at once.
STARTS_A_PAID_PERIOD = frozenset(
    {SubscriptionStatus.TRIALING, SubscriptionStatus.TRIAL_ENDED, SubscriptionStatus.CANCELLED}
)


def _start_paid_period(current: Subscription, wanted: Subscription, now: datetime) -> _Draft:
    end = shift_months(now, wanted.interval.months)
    lines = [_full_period(item, now, end) for item in wanted.items]
    result = replace(
        wanted, status=SubscriptionStatus.ACTIVE, anchor=now, period_start=now, period_end=end
    )
    return _Draft(ChangeKind.NEW, ChangeTiming.IMMEDIATE, lines, now, result)


def _immediate_with_credit(
    current: Subscription, wanted: Subscription, old: Item, new: Item, now: datetime
) -> _Draft:
    # CHG-7: the unused time pays the rest of this period at the new rate, then whole periods at
    # the new rate (the renewal date moves out); less than one whole period is dropped.
    credit = _unused(old, current, now)
    rest = _remaining(new, current, now)
    lines = [*credit, rest]
    left = -sum(line.amount for line in credit) - rest.amount
    periods = left // new.amount if new.amount > 0 else 0
    if periods > MAX_PREPAID_PERIODS:
        # Beyond ten years of prepaid periods the credit stays money: it goes to the balance.
        periods = MAX_PREPAID_PERIODS
        left = periods * new.amount
    if periods:
        end = shift_months(current.period_end, periods * current.interval.months)
        lines.append(
            Line(
                f"{new.describe()}, {periods} prepaid period{'s' if periods > 1 else ''}, "
                f"{_on(current.period_end)} to {_on(end)}",
                periods * new.amount,
                current.period_end,
                end,
                product=new.product,
                plan=new.plan,
            )
        )
    dropped = left - periods * new.amount
    if dropped:
        lines.append(Line("Unused credit below one full period, not carried over", dropped))
    prepaid = replace(new, prepaid_periods=periods)
    result = replace(
        wanted, items=tuple(prepaid if i.product == new.product else i for i in wanted.items)
    )
    return _Draft(ChangeKind.DOWNGRADE, ChangeTiming.IMMEDIATE, lines, now, result)


def _switch_interval(current: Subscription, wanted: Subscription, now: datetime) -> _Draft:
    longer = wanted.interval.months > current.interval.months
    if longer:
        # INT-1: the current period and the new, longer one are combined; the new price is
        # charged now and the renewal moves to the current period's end plus the new interval.
        start = current.period_end
        end = shift_months(start, wanted.interval.months)
        lines = [_full_period(item, start, end) for item in wanted.items]
        lines += [line for item in current.items for line in _unused(item, current, now)[1:]]
        paid = tuple(replace(item, prepaid_periods=0) for item in wanted.items)
        result = replace(wanted, anchor=start, period_start=start, period_end=end, items=paid)
        return _Draft(ChangeKind.UPGRADE, ChangeTiming.IMMEDIATE, lines, now, result, start)
    # INT-2: a new, shorter period starts now; the unused time of the longer one is credited and
    # what the new period does not use goes to the credit balance.
    end = shift_months(now, wanted.interval.months)
    lines = [line for item in current.items for line in _unused(item, current, now)]
    lines += [_full_period(item, now, end) for item in wanted.items]
    result = replace(_credited(wanted, None), anchor=now, period_start=now, period_end=end)
    return _Draft(ChangeKind.DOWNGRADE, ChangeTiming.IMMEDIATE, lines, now, result)


def _credited(subscription: Subscription, products: set[str] | None) -> Subscription:
    """The items whose prepaid periods were credited back by this change hold none any more."""
    items = tuple(
        replace(item, prepaid_periods=0) if products is None or item.product in products else item
        for item in subscription.items
    )
    return replace(subscription, items=items)


def _finish(
    current: Subscription, draft: _Draft, now: datetime, facts: Facts, blockers: list[Blocker]
) -> Quote:
    # DSC-2 then TAX-1: discounts per line first, then tax on `amount - discount`, both before
    # the credit balance (MNY-2's order).
    lines = discounts.discount_lines(draft.lines, facts.discount, current.currency)
    if facts.tax is not None:
        lines = tuple(tax_lines(lines, facts.tax, facts.reversed_tax))
    total = lines_total(lines)
    # INT-3: the credit balance pays first; a negative total adds to it. Never negative.
    credit_applied = invoice_credit(current.credit_balance, total)
    amount_due = max(total, 0) - credit_applied
    balance_after = current.credit_balance - credit_applied + max(-total, 0)
    if amount_due > 0 and not facts.has_payment_method:
        blockers.append(
            Blocker(
                BlockerCode.NO_PAYMENT_METHOD,
                "Add a payment method first: this change is charged now.",
            )
        )
    target = draft.target or draft.result
    lost_features = _features(current.items) - _features(target.items)
    result = draft.result
    replaced = _replaced_downgrade(draft, facts)
    return Quote(
        kind=draft.kind,
        timing=draft.timing,
        currency=current.currency,
        lines=lines,
        credit_applied=credit_applied,
        amount_due_now=amount_due,
        credit_balance_after=balance_after,
        recurring_amount=target.amount,
        effective_at=draft.effective_at,
        next_billing_date=next_charge(result),
        features_lost=tuple(sorted(lost_features))
        if draft.kind is not ChangeKind.NO_CHANGE
        else (),
        blockers=tuple(blockers),
        result=result,
        interval_switch_at=draft.interval_switch_at,
        replaces_scheduled_change=replaced is not None,
        notes=()
        if replaced is None
        else (
            f"Replaces the downgrade to {replaced.describe()} scheduled for "
            f"{_on(current.period_end)}: that downgrade will not happen.",
        ),
    )


def _replaced_downgrade(draft: _Draft, facts: Facts) -> Item | None:
    """CHG-6: a change applied to a line with a scheduled downgrade replaces that downgrade."""
    if draft.kind is ChangeKind.NO_CHANGE or draft.timing is ChangeTiming.BY_REQUEST:
        return None
    return facts.scheduled_downgrade


def next_charge(subscription: Subscription) -> datetime:
    """The period end, moved out by the periods every item has prepaid (CHG-7)."""
    prepaid = min((item.prepaid_periods for item in subscription.items), default=0)
    return shift_months(subscription.period_end, prepaid * subscription.interval.months)


def _features(items: Sequence[Item]) -> set[str]:
    return {feature for item in items for feature in item.features}
