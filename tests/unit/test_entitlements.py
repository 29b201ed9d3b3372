"""Entitlements decided from facts (EVT-2): features in tier order, limits with what is left,
when counts reset, and the usage gate's answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.catalog import Plan, Product
from billing.entitlements import LineFacts, StandingFacts, entitlements, features
from billing.policies import UpgradePreference as P
from billing.subscription_status import SubscriptionStatus as S
from billing.usage import GateReason

EMAIL = Product(2, "email", "Email", 1, ("profiles", "emails"), ("MONTHLY",))
SMALL = Plan(5, 2, None, "email-500", "500", 1, ("a",), {"profiles": 500, "emails": 5000})
BIG = Plan(6, 2, None, "email-1000", "1000", 2, ("a", "b"), {"profiles": 1000, "emails": 10000})
MONTH_END = datetime(2026, 4, 2, tzinfo=UTC)


def _line(plan: Plan, preference: P | None, stock: int, higher: bool) -> LineFacts:
    return LineFacts(EMAIL, plan, (SMALL, BIG), preference, {"profiles": stock}, higher)


def test_features_list_every_tier_s_features_in_the_order_tiers_add_them() -> None:
    assert [(f.feature, f.enabled) for f in features(SMALL, (SMALL, BIG))] == [
        ("a", True),
        ("b", False),
    ]


@pytest.mark.parametrize(
    ("status", "preference", "emails", "higher", "expected"),
    [
        (S.ACTIVE, P.NONE, 4999, True, (True, GateReason.ALLOWED, 1)),
        (S.ACTIVE, P.NONE, 5000, True, (False, GateReason.LIMIT_REACHED, 0)),
        (S.ACTIVE, P.AUTO_UPGRADE, 5000, True, (True, GateReason.ALLOWED, 0)),
        (S.ACTIVE, P.AUTO_UPGRADE, 5000, False, (False, GateReason.LIMIT_REACHED, 0)),
        (S.ACTIVE, P.ON_DEMAND, 7000, False, (True, GateReason.ALLOWED, 0)),
        (S.FROZEN, P.NONE, 10, True, (False, GateReason.SUBSCRIPTION_FROZEN, 4990)),
        (S.CANCELLING, P.NONE, 10, True, (False, GateReason.SUBSCRIPTION_CANCELLING, 4990)),
        (S.TRIAL_ENDED, P.NONE, 0, True, (False, GateReason.TRIAL_ENDED, 5000)),
    ],
)
def test_a_limit_says_what_is_left_and_why_usage_is_blocked(
    status: S, preference: P, emails: int, higher: bool, expected: tuple[bool, GateReason, int]
) -> None:
    facts = StandingFacts(status, False, MONTH_END, {(2, "emails"): emails})
    (product,) = entitlements([_line(SMALL, preference, 120, higher)], facts)
    profiles, sent = product.limits
    assert (sent.allowed, sent.reason, sent.remaining) == expected
    assert (sent.used, sent.resets_at) == (emails, MONTH_END)
    # What is stored is read from the line and never resets.
    assert (profiles.used, profiles.remaining, profiles.resets_at) == (120, 380, None)


def test_paused_automatic_charges_block_an_acting_preference_at_the_limit_dun_5() -> None:
    facts = StandingFacts(S.ACTIVE, True, MONTH_END, {(2, "emails"): 5000})
    (product,) = entitlements([_line(SMALL, P.AUTO_UPGRADE, 0, True)], facts)
    assert product.limits[1].reason is GateReason.AUTOMATIC_CHARGES_PAUSED
