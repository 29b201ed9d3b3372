"""Plan-change quotes, table-driven and by property (rules MNY-2, CHG-1 to CHG-11, INT-1 to INT-3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import BillingInterval
from billing.policies import DowngradeTiming, UpgradeProration
from billing.quote import (
    ChangeKind,
    ChangeTiming,
    Facts,
    Item,
    LineChange,
    Policy,
    Subscription,
    quote,
)
from billing.subscription_status import SubscriptionStatus

START_31 = datetime(2026, 3, 2, tzinfo=UTC)  # a 31-day period: 2 Mar to 2 Apr
NOW = START_31 + timedelta(days=10)
KEEP_CYCLE = Policy(UpgradeProration.PRORATE_KEEP_CYCLE, DowngradeTiming.END_OF_PERIOD)
RESET = Policy(UpgradeProration.RESET_CYCLE, DowngradeTiming.END_OF_PERIOD)
WITH_CREDIT = Policy(UpgradeProration.PRORATE_KEEP_CYCLE, DowngradeTiming.IMMEDIATE_WITH_CREDIT)
BY_REQUEST = Policy(UpgradeProration.PRORATE_KEEP_CYCLE, DowngradeTiming.BY_REQUEST)
PAYS = Facts(has_payment_method=True)


def item(product: str, plan: str, amount: int, **extra: object) -> Item:
    return Item(
        product=product,
        product_name=product.title(),
        plan=plan,
        plan_name=plan.title(),
        amount=amount,
        **extra,  # type: ignore[arg-type]
    )


def subscription(
    *items: Item, interval: BillingInterval = BillingInterval.MONTHLY, **extra: object
) -> Subscription:
    end = (
        datetime(2026, 4, 2, tzinfo=UTC)
        if interval is BillingInterval.MONTHLY
        else datetime(2027, 3, 2, tzinfo=UTC)
    )
    values: dict[str, object] = {
        "status": SubscriptionStatus.ACTIVE,
        "interval": interval,
        "anchor": START_31,
        "period_start": START_31,
        "period_end": end,
        "currency": "USD",
        "items": items,
    }
    values.update(extra)
    return Subscription(**values)  # type: ignore[arg-type]


def change(current: Subscription, new: Item, **extra: object) -> Subscription:
    items = tuple(new if i.product == new.product else i for i in current.items)
    if new.product not in {i.product for i in current.items}:
        items += (new,)
    return replace(current, items=items, **extra)  # type: ignore[arg-type]


def test_prorate_keep_cycle_upgrade() -> None:
    # rule CHG-3: 21 of 31 days left: -30.00 x 21/31 = -20.3226 -> -20.32; 45.00 x 21/31 = 30.4839 -> 30.48
    current = subscription(item("email", "email-1000", 3000))
    q = quote(
        current,
        change(current, item("email", "email-1500", 4500)),
        LineChange("email", KEEP_CYCLE, NOW),
        PAYS,
    )
    assert (q.kind, q.timing) == (ChangeKind.UPGRADE, ChangeTiming.IMMEDIATE)
    assert [line.amount for line in q.lines] == [-2032, 3048]
    assert q.lines[0].description == "Unused time on Email-1000 after 12 Mar 2026"
    assert q.amount_due_now == 1016
    assert q.result.period_end == current.period_end
    assert q.next_billing_date == current.period_end
    assert q.recurring_amount == 4500


def test_reset_cycle_upgrade_credits_every_item_and_restarts_the_period() -> None:
    # rule CHG-4: -159.00 x 21/31 = -107.7097 -> -107.71, +279.00 full; store credited too.
    current = subscription(item("messaging", "growth", 15900), item("store", "business", 4500))
    q = quote(
        current,
        change(current, item("messaging", "advanced", 27900)),
        LineChange("messaging", RESET, NOW),
        PAYS,
    )
    assert [line.amount for line in q.lines] == [-10771, -3048, 27900, 4500]
    assert q.amount_due_now == 27900 + 4500 - 10771 - 3048
    assert (q.result.period_start, q.result.period_end) == (NOW, datetime(2026, 4, 12, tzinfo=UTC))


def test_end_of_period_downgrade_charges_nothing_now() -> None:
    # rule CHG-6
    current = subscription(
        item("messaging", "growth", 15900, features=frozenset({"inbox", "workflows"}))
    )
    wanted = change(current, item("messaging", "starter", 7900, features=frozenset({"inbox"})))
    q = quote(current, wanted, LineChange("messaging", RESET, NOW), PAYS)
    assert (q.kind, q.timing, q.lines, q.amount_due_now) == (
        ChangeKind.DOWNGRADE,
        ChangeTiming.END_OF_PERIOD,
        (),
        0,
    )
    assert q.effective_at == current.period_end
    assert q.features_lost == ("workflows",)  # rule CHG-9
    assert q.recurring_amount == 7900


def test_immediate_downgrade_turns_credit_into_prepaid_periods() -> None:
    # rule CHG-7: credit 105.00 x 21/31 = 71.13; rest 25.00 x 21/31 = 16.94; left 54.19 -> 2 periods
    # of 25.00 prepaid, 4.19 dropped.
    current = subscription(item("store", "unlimited", 10500))
    q = quote(
        current,
        change(current, item("store", "venture", 2500)),
        LineChange("store", WITH_CREDIT, NOW),
        PAYS,
    )
    assert [line.amount for line in q.lines] == [-7113, 1694, 5000, 419]
    assert q.total == 0 and q.amount_due_now == 0
    assert q.result.items[0].prepaid_periods == 2
    assert q.next_billing_date == datetime(2026, 6, 2, tzinfo=UTC)


def test_by_request_downgrade_changes_nothing() -> None:
    # rule CHG-8
    current = subscription(item("marketing", "pro", 7900))
    q = quote(
        current,
        change(current, item("marketing", "plus", 4900)),
        LineChange("marketing", BY_REQUEST, NOW),
        PAYS,
    )
    assert (q.timing, q.lines, q.result) == (ChangeTiming.BY_REQUEST, (), current)


def test_monthly_to_annual_combines_periods() -> None:
    # rule INT-1
    current = subscription(item("store", "business", 4500))
    wanted = change(current, item("store", "business", 45000), interval=BillingInterval.ANNUAL)
    q = quote(current, wanted, LineChange("store", KEEP_CYCLE, NOW), PAYS)
    assert q.amount_due_now == 45000
    # The current month runs out as paid; the year after it is paid now and starts on 2 Apr.
    assert q.interval_switch_at == current.period_end
    assert (q.result.period_start, q.result.period_end) == (
        current.period_end,
        datetime(2027, 4, 2, tzinfo=UTC),
    )
    assert q.next_billing_date == datetime(2027, 4, 2, tzinfo=UTC)
    assert q.recurring_amount == 45000


def test_no_other_change_while_an_interval_switch_waits() -> None:
    current = subscription(item("store", "business", 4500))
    wanted = change(current, item("store", "unlimited", 10500))
    q = quote(
        current,
        wanted,
        LineChange("store", KEEP_CYCLE, NOW),
        Facts(has_payment_method=True, interval_switch_pending=True),
    )
    assert [b.code for b in q.blockers] == ["INTERVAL_SWITCH_PENDING"]


def test_prepaid_periods_are_credited_whole_on_the_next_change() -> None:
    # rule CHG-7 then CHG-3: the two prepaid Venture months come back as credit on an upgrade.
    current = subscription(item("store", "venture", 2500, prepaid_periods=2))
    q = quote(
        current,
        change(current, item("store", "business", 4500)),
        LineChange("store", KEEP_CYCLE, NOW),
        PAYS,
    )
    assert [line.amount for line in q.lines] == [-1694, -5000, 3048]
    assert q.amount_due_now == 0 and q.credit_balance_after == 1694 + 5000 - 3048
    assert q.result.items[0].prepaid_periods == 0


def test_annual_to_monthly_puts_unused_time_on_the_credit_balance() -> None:
    # rule INT-2, INT-3: 365-day year, 355 days left: 450.00 x 355/365 = 437.67; new month 45.00.
    current = subscription(item("store", "business", 45000), interval=BillingInterval.ANNUAL)
    wanted = change(current, item("store", "business", 4500), interval=BillingInterval.MONTHLY)
    q = quote(current, wanted, LineChange("store", KEEP_CYCLE, NOW), Facts())
    assert [line.amount for line in q.lines] == [-43767, 4500]
    assert (q.amount_due_now, q.credit_balance_after) == (0, 43767 - 4500)
    assert q.result.period_start == NOW and q.blockers == ()


def test_credit_balance_pays_first() -> None:
    # rule INT-3
    current = subscription(item("email", "email-1000", 3000), credit_balance=1000)
    q = quote(
        current,
        change(current, item("email", "email-1500", 4500)),
        LineChange("email", KEEP_CYCLE, NOW),
        PAYS,
    )
    assert (q.credit_applied, q.amount_due_now, q.credit_balance_after) == (1000, 16, 0)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (SubscriptionStatus.FROZEN, "SUBSCRIPTION_FROZEN"),
        (SubscriptionStatus.PENDING_PAYMENT, "OVERDUE_INVOICE"),
        (SubscriptionStatus.CANCELLING, "SUBSCRIPTION_CANCELLING"),
    ],
)
def test_status_blockers(status: SubscriptionStatus, code: str) -> None:
    current = subscription(item("email", "email-1000", 3000), status=status)
    q = quote(
        current,
        change(current, item("email", "email-1500", 4500)),
        LineChange("email", KEEP_CYCLE, NOW),
        PAYS,
    )
    assert code in [b.code for b in q.blockers]


def test_subscribing_again_after_cancellation_is_a_new_subscription() -> None:
    # rule SUB-3: CANCELLED -> ACTIVE; the resolver passes the cancelled organization with no
    # items, so the quote is a new paid period at the wanted (current) prices.
    current = subscription(status=SubscriptionStatus.CANCELLED)
    q = quote(
        current,
        change(current, item("email", "email-1000", 3000)),
        LineChange("email", KEEP_CYCLE, NOW),
        PAYS,
    )
    assert (q.kind, q.blockers, q.amount_due_now) == (ChangeKind.NEW, (), 3000)
    assert (q.result.status, q.result.period_start) == (SubscriptionStatus.ACTIVE, NOW)


def test_one_overdue_blocker_for_one_overdue_invoice() -> None:
    # rule CHG-1: the status and the overdue invoice name the same blocker once.
    current = subscription(
        item("email", "email-1000", 3000), status=SubscriptionStatus.PENDING_PAYMENT
    )
    facts = Facts(has_payment_method=True, overdue_invoices=1)
    q = quote(
        current,
        change(current, item("email", "email-1500", 4500)),
        LineChange("email", KEEP_CYCLE, NOW),
        facts,
    )
    assert [b.code for b in q.blockers] == ["OVERDUE_INVOICE"]


def test_stock_and_seat_blockers() -> None:
    # rule CHG-1, CHG-10, CHG-11
    current = subscription(
        item("marketing", "plus", 9800, seats=3, contact_limit=5000, max_seats=25)
    )
    wanted = change(
        current, item("marketing", "plus", 4900, seats=2, contact_limit=1000, max_seats=25)
    )
    facts = Facts(stock={"contacts": 4200}, seats_in_use=3, has_payment_method=True)
    q = quote(current, wanted, LineChange("marketing", BY_REQUEST, NOW), facts)
    assert [b.code for b in q.blockers] == ["SEATS_IN_USE", "CONTACTS_ABOVE_LIMIT"]
    profiles = subscription(item("email", "email-1000", 3000, limits={"profiles": 1000}))
    smaller = change(
        profiles, item("email", "email-500", 2000, limits={"profiles": 500, "emails": 5000})
    )
    q = quote(
        profiles,
        smaller,
        LineChange("email", KEEP_CYCLE, NOW),
        Facts(stock={"profiles": 640, "emails": 9000}),
    )
    assert [b.code for b in q.blockers] == [
        "STOCK_ABOVE_LIMIT"
    ]  # emails reset each period: no blocker


def test_a_charge_needs_a_payment_method() -> None:
    current = subscription(item("email", "email-1000", 3000))
    q = quote(
        current,
        change(current, item("email", "email-1500", 4500)),
        LineChange("email", KEEP_CYCLE, NOW),
        Facts(),
    )
    assert [b.code for b in q.blockers] == ["NO_PAYMENT_METHOD"]


def test_subscribing_from_a_trial_starts_a_paid_period() -> None:
    # rule SUB-2
    current = subscription(item("marketing", "plus", 9800), status=SubscriptionStatus.TRIAL_ENDED)
    q = quote(current, current, LineChange("marketing", BY_REQUEST, NOW), PAYS)
    assert (q.kind, q.amount_due_now, q.result.status) == (
        ChangeKind.NEW,
        9800,
        SubscriptionStatus.ACTIVE,
    )
    assert (q.result.period_start, q.result.period_end) == (NOW, datetime(2026, 4, 12, tzinfo=UTC))


amounts = st.integers(min_value=0, max_value=10_000_000)
moments = st.integers(min_value=0, max_value=31 * 86400)


@given(amounts, amounts, moments)
def test_credit_never_exceeds_what_was_paid_for_the_period(
    old: int, new: int, seconds: int
) -> None:
    current = subscription(item("email", "a", old))
    now = START_31 + timedelta(seconds=seconds)
    q = quote(
        current,
        change(current, item("email", "b", max(new, old))),
        LineChange("email", KEEP_CYCLE, now),
        PAYS,
    )
    credits = [line.amount for line in q.lines if line.amount < 0]
    assert all(-c <= old for c in credits)


@given(amounts, amounts, moments)
def test_upgrade_and_downgrade_back_at_the_same_instant_net_to_zero(
    low: int, extra: int, seconds: int
) -> None:
    # rule MNY-2 under PRORATE_KEEP_CYCLE: the proration lines of the way there and back cancel out.
    high = low + extra + 1
    now = START_31 + timedelta(seconds=seconds)
    cheap = subscription(item("store", "a", low))
    dear = change(cheap, item("store", "b", high))
    up = quote(cheap, dear, LineChange("store", WITH_CREDIT, now), PAYS)
    down = quote(dear, cheap, LineChange("store", WITH_CREDIT, now), PAYS)
    credit_and_rest = down.lines[:2]
    assert up.total + sum(line.amount for line in credit_and_rest) == 0


@given(
    st.lists(amounts, min_size=1, max_size=4),
    amounts,
    moments,
    st.integers(min_value=0, max_value=10_000),
)
def test_a_total_is_the_sum_of_its_rounded_lines(
    olds: list[int], new: int, seconds: int, balance: int
) -> None:
    items = tuple(item(f"p{i}", "a", a) for i, a in enumerate(olds))
    current = subscription(*items, credit_balance=balance)
    now = START_31 + timedelta(seconds=seconds)
    wanted = change(current, item("p0", "b", olds[0] + new))
    for policy in (KEEP_CYCLE, RESET):
        q = quote(current, wanted, LineChange("p0", policy, now), PAYS)
        total = sum(line.amount for line in q.lines)
        assert all(isinstance(line.amount, int) for line in q.lines)
        assert q.amount_due_now + q.credit_applied == max(total, 0)
        assert q.credit_balance_after >= 0
        assert q.credit_balance_after == balance - q.credit_applied + max(-total, 0)


def test_by_request_preview_shows_what_the_request_would_give() -> None:
    # rule CHG-8, CHG-9: nothing changes now, but the preview lists the features it would lose.
    current = subscription(
        item("marketing", "pro", 7900, features=frozenset({"email_marketing", "split_testing"}))
    )
    wanted = change(
        current, item("marketing", "plus", 4900, features=frozenset({"email_marketing"}))
    )
    q = quote(current, wanted, LineChange("marketing", BY_REQUEST, NOW), PAYS)
    assert (q.features_lost, q.recurring_amount, q.result) == (("split_testing",), 4900, current)


def test_switching_to_annual_credits_prepaid_periods() -> None:
    # rule INT-1 after CHG-7: two prepaid Venture months are worth $50 against the year.
    current = subscription(item("store", "venture", 2500, prepaid_periods=2))
    wanted = change(current, item("store", "venture", 25000), interval=BillingInterval.ANNUAL)
    q = quote(current, wanted, LineChange("store", KEEP_CYCLE, NOW), PAYS)
    assert [line.amount for line in q.lines] == [25000, -5000]
    assert q.amount_due_now == 20000


# CHG-6: a change to a line with a scheduled downgrade replaces it, and the preview says so in
# words. (case, wanted plan and amount, policy, replaces?)
EMAIL_1500 = item("email", "email-1500", 4500)
DOWN_TO_1000 = item("email", "email-1000", 3000)
# fmt: off
REPLACING = [
    ("an upgrade replaces it", ("email-2500", 6500), KEEP_CYCLE, True),
    ("another downgrade replaces it", ("email-500", 2000), KEEP_CYCLE, True),
    ("an immediate downgrade replaces it", ("email-500", 2000), WITH_CREDIT, True),
    ("a downgrade by request changes nothing yet", ("email-500", 2000), BY_REQUEST, False),
    ("no change keeps it", ("email-1500", 4500), KEEP_CYCLE, False),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "wanted", "policy", "replaces"), REPLACING, ids=[r[0] for r in REPLACING]
)
def test_replacing_a_scheduled_downgrade_is_explained_chg_6(
    case: str, wanted: tuple[str, int], policy: Policy, replaces: bool
) -> None:
    current = subscription(EMAIL_1500)
    facts = replace(PAYS, scheduled_downgrade=DOWN_TO_1000)
    q = quote(
        current, change(current, item("email", *wanted)), LineChange("email", policy, NOW), facts
    )
    assert q.replaces_scheduled_change is replaces
    assert q.notes == (
        (
            "Replaces the downgrade to Email-1000 scheduled for 2 Apr 2026: "
            "that downgrade will not happen.",
        )
        if replaces
        else ()
    )


def test_no_note_without_a_scheduled_downgrade_chg_6() -> None:
    current = subscription(EMAIL_1500)
    q = quote(
        current,
        change(current, item("email", "email-2500", 6500)),
        LineChange("email", KEEP_CYCLE, NOW),
        PAYS,
    )
    assert (q.replaces_scheduled_change, q.notes) == (False, ())


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), "1 Jan 2026"),
        (datetime(2026, 3, 12, 9, 30, tzinfo=UTC), "12 Mar 2026"),
        (datetime(2027, 5, 31, tzinfo=UTC), "31 May 2027"),
        (datetime(2026, 9, 9, tzinfo=UTC), "9 Sep 2026"),
        (datetime(2028, 12, 31, 23, 59, tzinfo=UTC), "31 Dec 2028"),
    ],
)
def test_line_dates_are_written_in_english_whatever_the_locale_rule_chg_3(
    moment: datetime, written: str
) -> None:
    """CHG-3: "Unused time on ... after 12 Mar 2026"."""
    from billing.quote import _on

    assert _on(moment) == written
