"""Which due renewals are plain enough to renew set-based (billing.renewal_batch, DUN-1)."""

from __future__ import annotations

import pytest

from billing.renewal_batch import NotPlain, RenewalFacts, not_plain
from billing.schedule import Due
from billing.subscription_status import SubscriptionStatus

S = SubscriptionStatus
PLAIN = RenewalFacts(status=S.ACTIVE, due=Due.PERIOD_END)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"on_demand_blocks": 0}, None),
        ({"status": S.TRIALING}, NotPlain.NOT_ACTIVE),
        ({"status": S.PENDING_PAYMENT}, NotPlain.NOT_ACTIVE),
        ({"status": S.DOWNGRADING}, NotPlain.NOT_ACTIVE),
        ({"status": S.CANCELLING}, NotPlain.NOT_ACTIVE),
        ({"due": Due.RENEWAL_NOTICE}, NotPlain.OTHER_WORK_DUE),
        ({"due": None}, NotPlain.OTHER_WORK_DUE),
        ({"scheduled_change": True}, NotPlain.SCHEDULED_CHANGE),
        ({"prepaid_line": True}, NotPlain.PREPAID_LINE),
        ({"autoscaling": True}, NotPlain.AUTOSCALING),
        ({"overage_at_close": True}, NotPlain.OVERAGE_AT_CLOSE),
        ({"on_demand_blocks": 2}, NotPlain.USAGE_TO_INVOICE),
        ({"open_invoices": True}, NotPlain.OPEN_INVOICES),
        ({"credit_balance": 100}, NotPlain.CREDIT_BALANCE),
        ({"credit_balance": -100}, NotPlain.CREDIT_BALANCE),
        ({"has_card": False}, NotPlain.NO_CARD),
        ({"amount_due": 0}, NotPlain.NOTHING_TO_CHARGE),
        ({"discount": True}, NotPlain.DISCOUNT),
        ({"status": S.FROZEN, "has_card": False}, NotPlain.NOT_ACTIVE),  # the first reason
    ],
)
def test_plain_renewals_rule_dun_1(changes: dict[str, object], expected: NotPlain | None) -> None:
    facts = RenewalFacts(**{**PLAIN.__dict__, **changes})
    assert not_plain(facts) is expected
