"""Usage decisions (rules USE-4 to USE-6, PREF-1 to PREF-4, CAN-4, DUN-5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.policies import UpgradePreference as P
from billing.subscription_status import SubscriptionStatus as S
from billing.usage import (
    GateFacts,
    GateReason,
    Tier,
    auto_downgrade_allowed,
    auto_downgrade_tier,
    autoscale_tier,
    crossed_thresholds,
    flexible_overage,
    gate,
    on_demand_blocks,
    percent_used,
    threshold_notice,
)

EMAIL = [
    Tier("email-500", 500),
    Tier("email-1000", 1000),
    Tier("email-1500", 1500),
    Tier("email-2500", 2500),
]
REC = [Tier("rec-10k", 10_000), Tier("rec-50k", 50_000), Tier("rec-100k", 100_000)]


@pytest.mark.parametrize(
    ("status", "used", "preference", "paused", "higher_tier", "allowed", "reason"),
    [
        (S.ACTIVE, 999, P.NONE, False, True, True, GateReason.ALLOWED),
        (S.ACTIVE, 1000, P.NONE, False, True, False, GateReason.LIMIT_REACHED),  # PREF-1 NONE
        (S.ACTIVE, 1000, P.ON_DEMAND, False, True, True, GateReason.ALLOWED),  # USE-6
        (S.ACTIVE, 1000, P.ON_DEMAND, False, False, True, GateReason.ALLOWED),  # USE-6
        (S.ACTIVE, 1000, P.AUTO_UPGRADE, False, True, True, GateReason.ALLOWED),
        (S.ACTIVE, 1000, P.FLEXIBLE_OVERAGE, False, True, True, GateReason.ALLOWED),
        # PREF-1: on the highest tier there is no next tier to move to or to buy volume from.
        (S.ACTIVE, 999, P.AUTO_UPGRADE, False, False, True, GateReason.ALLOWED),
        (S.ACTIVE, 1000, P.AUTO_UPGRADE, False, False, False, GateReason.LIMIT_REACHED),
        (S.ACTIVE, 1000, P.FLEXIBLE_OVERAGE, False, False, False, GateReason.LIMIT_REACHED),
        (
            S.ACTIVE,
            1000,
            P.FLEXIBLE_OVERAGE,
            True,
            True,
            False,
            GateReason.AUTOMATIC_CHARGES_PAUSED,
        ),  # DUN-5
        (S.FROZEN, 10, P.ON_DEMAND, False, True, False, GateReason.SUBSCRIPTION_FROZEN),  # CAN-4
        (
            S.CANCELLING,
            10,
            P.ON_DEMAND,
            False,
            True,
            False,
            GateReason.SUBSCRIPTION_CANCELLING,
        ),  # CAN-4
        (None, 0, None, False, False, False, GateReason.NO_SUBSCRIPTION),
    ],
)
def test_gate(
    status: S | None,
    used: int,
    preference: P | None,
    paused: bool,
    higher_tier: bool,
    allowed: bool,
    reason: GateReason,
) -> None:
    decision = gate(GateFacts(status, used, 1000, preference, paused, higher_tier), 1)
    assert (decision.allowed, decision.reason) == (allowed, reason)


# rule USE-5, CAN-4, SUB-2: every status, with room under the limit, so only the status decides.
GATE_BY_STATUS = {
    S.TRIALING: (True, GateReason.ALLOWED),
    S.TRIAL_ENDED: (False, GateReason.TRIAL_ENDED),
    S.ACTIVE: (True, GateReason.ALLOWED),
    S.DOWNGRADING: (True, GateReason.ALLOWED),
    S.CANCELLING: (False, GateReason.SUBSCRIPTION_CANCELLING),
    S.PENDING_PAYMENT: (True, GateReason.ALLOWED),
    S.FROZEN: (False, GateReason.SUBSCRIPTION_FROZEN),
    S.CANCELLED: (False, GateReason.CANCELLED),
}


def test_the_table_names_every_status() -> None:
    assert set(GATE_BY_STATUS) == set(S)


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("preference", [P.NONE, P.AUTO_UPGRADE, P.ON_DEMAND, None])
def test_gate_by_status_rule_use_5_can_4_sub_2(status: S, preference: P | None) -> None:
    decision = gate(GateFacts(status, 10, 1000, preference, False, higher_tier=True), 1)
    assert (decision.allowed, decision.reason) == GATE_BY_STATUS[status]


def test_thresholds_once_per_period() -> None:
    # USE-4: Klaviyo 75 % and 90 % of 10,000 emails.
    assert crossed_thresholds(7_499, 10_000, [75, 90], []) == []
    assert crossed_thresholds(7_500, 10_000, [75, 90], []) == [75]
    assert crossed_thresholds(9_100, 10_000, [75, 90], [75]) == [90]
    assert crossed_thresholds(9_900, 10_000, [75, 90], [75, 90]) == []
    assert percent_used(899, 1000) == 89


def test_on_demand_blocks() -> None:
    # USE-6: 1,250 distinct contacts on a 1,000 MAC plan: 3 blocks of 100.
    assert on_demand_blocks(1250, 1000, 100) == 3
    assert on_demand_blocks(1000, 1000, 100) == 0
    assert on_demand_blocks(1001, 1000, 100) == 1


@given(
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**4),
)
def test_blocks_cover_the_overage_and_no_more(used: int, limit: int, size: int) -> None:
    blocks = on_demand_blocks(used, limit, size)
    over = max(0, used - limit)
    assert blocks * size >= over and (blocks - 1) * size < max(over, 1)


def test_flexible_overage_on_email_500() -> None:
    # PREF-1: 5,000 more emails at $20 / 5,000 = $0.004 each: $20.00.
    overage = flexible_overage(5_000, 10_000, 2000)
    assert (overage.volume, overage.amount) == (5_000, 2000)


def test_auto_downgrade_by_profiles() -> None:
    # PREF-3
    assert auto_downgrade_tier(400, EMAIL[1], EMAIL) == EMAIL[0]
    assert auto_downgrade_tier(640, EMAIL[1], EMAIL) is None
    assert auto_downgrade_allowed(P.FLEXIBLE_OVERAGE) and not auto_downgrade_allowed(P.AUTO_UPGRADE)


def test_autoscaling_follows_the_average_not_a_spike() -> None:
    # PREF-4: one month above the 10k tier (a Black Friday of 13k) with an average of 10,000 does
    # not move it; three months averaging 19,333 do, to the tier that holds the average.
    assert autoscale_tier([8_000, 9_000, 13_000], REC[0], REC) is None
    assert autoscale_tier([9_000, 9_000, 40_000], REC[0], REC) == REC[1]
    assert autoscale_tier([60_000, 70_000, 80_000], REC[0], REC) == REC[2]


@pytest.mark.parametrize(
    ("used", "crossed", "expected"),
    [
        (
            7_500,
            [75],
            "Email: 7,500 of 10,000 emails used this billing month (75 %; the 75 % threshold"
            " reached).",
        ),
        (
            10_050,
            [75, 90],
            "Email: 10,050 of 10,000 emails used this billing month (100 %; the 75 % and 90 %"
            " thresholds reached).",
        ),
        (
            10_050,
            [75, 90, 100],
            "Email: 10,050 of 10,000 emails used this billing month (100 %; the 75 %, 90 % and"
            " 100 % thresholds reached).",
        ),
    ],
)
def test_threshold_notice_names_every_threshold_crossed_rule_use_4(
    used: int, crossed: list[int], expected: str
) -> None:
    assert threshold_notice("Email", "emails", used, 10_000, crossed) == expected
