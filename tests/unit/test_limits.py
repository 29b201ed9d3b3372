"""What a line does at its limit, table-driven (rules PREF-1, USE-5, USE-6): the preferences that
act there, and which lines are billed on-demand blocks."""

from __future__ import annotations

import pytest

from billing.catalog import ProductPolicy
from billing.limits import (
    LimitAction,
    LimitFacts,
    OnDemandCharge,
    OnDemandTerms,
    action_at_limit,
    buys_at_month_close,
    on_demand_terms,
)
from billing.policies import (
    CancellationNotice,
    DowngradeTiming,
    UpgradePreference,
    UpgradeProration,
)

P = UpgradePreference
A = LimitAction

# (rule, case, facts, action)
# fmt: off
AT_LIMIT = [
    ("PREF-1", "AUTO_UPGRADE past the limit moves to the next tier",
     LimitFacts(P.AUTO_UPGRADE, 10_001, 10_000), A.AUTO_UPGRADE),
    ("PREF-1", "FLEXIBLE_OVERAGE past the limit buys volume",
     LimitFacts(P.FLEXIBLE_OVERAGE, 5_001, 5_000), A.BUY_OVERAGE),
    ("PREF-1", "at the limit exactly, nothing yet", LimitFacts(P.AUTO_UPGRADE, 5_000, 5_000),
     A.NOTHING),
    ("PREF-1", "within the volume bought, nothing",
     LimitFacts(P.FLEXIBLE_OVERAGE, 10_000, 5_000, bought=5_000), A.NOTHING),
    ("PREF-1", "past the volume bought, buys again",
     LimitFacts(P.FLEXIBLE_OVERAGE, 10_001, 5_000, bought=5_000), A.BUY_OVERAGE),
    ("PREF-1", "a closed month still owes the volume",
     LimitFacts(P.FLEXIBLE_OVERAGE, 5_001, 5_000, month_open=False), A.BUY_OVERAGE),
    ("PREF-1", "a closed month is not served by a higher tier",
     LimitFacts(P.AUTO_UPGRADE, 10_001, 10_000, month_open=False), A.NOTHING),
    ("USE-6", "ON_DEMAND bills blocks on the usage invoice, it does not act",
     LimitFacts(P.ON_DEMAND, 1_250, 1_000), A.NOTHING),
    ("USE-5", "NONE only stops the gate", LimitFacts(P.NONE, 5_001, 5_000), A.NOTHING),
    ("USE-5", "no preference (a product without limits)", LimitFacts(None, 10, 5), A.NOTHING),
    ("USE-5", "a metric the plan does not limit", LimitFacts(P.AUTO_UPGRADE, 10**9, None),
     A.NOTHING),
    ("USE-5", "the highest tier: its billing managers are told",
     LimitFacts(P.AUTO_UPGRADE, 100_001, 100_000, higher_tier=False), A.TELL_HIGHEST_TIER),
    ("USE-5", "the highest tier, flexible overage: told too",
     LimitFacts(P.FLEXIBLE_OVERAGE, 100_001, 100_000, higher_tier=False), A.TELL_HIGHEST_TIER),
    ("USE-5", "the highest tier, once a month",
     LimitFacts(P.AUTO_UPGRADE, 100_001, 100_000, higher_tier=False, highest_tier_told=True),
     A.NOTHING),
]
# fmt: on


@pytest.mark.parametrize(
    ("rule", "case", "facts", "action"), AT_LIMIT, ids=[f"{r[0]}: {r[1]}" for r in AT_LIMIT]
)
def test_action_at_limit(rule: str, case: str, facts: LimitFacts, action: LimitAction) -> None:
    assert action_at_limit(facts) is action


@pytest.mark.parametrize(
    ("preference", "buys"),
    [
        (P.FLEXIBLE_OVERAGE, True),
        (P.AUTO_UPGRADE, False),
        (P.ON_DEMAND, False),
        (P.NONE, False),
        (None, False),
    ],
)
def test_only_flexible_overage_buys_at_the_month_close_rule_pref_1(
    preference: UpgradePreference | None, buys: bool
) -> None:
    assert buys_at_month_close(preference) is buys


def _policy(
    metric: str | None = "mac", size: int | None = 100, price: int | None = 1000
) -> ProductPolicy:
    return ProductPolicy(
        1,
        UpgradeProration.PRORATE_KEEP_CYCLE,
        DowngradeTiming.END_OF_PERIOD,
        CancellationNotice.END_OF_PERIOD,
        0,
        on_demand_metric=metric,
        on_demand_block_size=size,
        on_demand_block_price=price,
    )


GROWTH = {"mac": 1_000}
# (case, preference, policy, plan limits, terms or None)
# fmt: off
ELIGIBLE = [
    ("an ON_DEMAND line on a limited, priced metric", P.ON_DEMAND, _policy(), GROWTH,
     OnDemandTerms("mac", 1_000, 100, 1000)),
    ("another preference", P.AUTO_UPGRADE, _policy(), GROWTH, None),
    ("no preference", None, _policy(), GROWTH, None),
    ("the product has no on-demand metric", P.ON_DEMAND, _policy(metric=None), GROWTH, None),
    ("the plan does not limit the metric", P.ON_DEMAND, _policy(), {"emails": 500}, None),
    ("no block size", P.ON_DEMAND, _policy(size=None), GROWTH, None),
    ("a block size of zero", P.ON_DEMAND, _policy(size=0), GROWTH, None),
    ("no block price", P.ON_DEMAND, _policy(price=None), GROWTH, None),
    ("free blocks are still billed blocks", P.ON_DEMAND, _policy(price=0), GROWTH,
     OnDemandTerms("mac", 1_000, 100, 0)),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "preference", "policy", "limits", "terms"), ELIGIBLE, ids=[r[0] for r in ELIGIBLE]
)
def test_on_demand_eligibility_rule_use_6(
    case: str,
    preference: UpgradePreference | None,
    policy: ProductPolicy,
    limits: dict[str, int],
    terms: OnDemandTerms | None,
) -> None:
    assert on_demand_terms(preference, policy, limits) == terms


@pytest.mark.parametrize(
    ("used", "charge"),
    [
        (900, OnDemandCharge(0, 0)),
        (1_000, OnDemandCharge(0, 0)),
        (1_001, OnDemandCharge(1, 1000)),
        (1_250, OnDemandCharge(3, 3000)),
    ],
)
def test_on_demand_charge_rule_use_6(used: int, charge: OnDemandCharge) -> None:
    terms = OnDemandTerms("mac", 1_000, 100, 1000)
    assert terms.charge(used) == charge


def test_on_demand_line_names_blocks_limit_and_use_rule_use_6() -> None:
    terms = OnDemandTerms("mac", 1_000, 100, 1000)
    assert terms.describe(terms.charge(1_250), 1_250, "Growth") == (
        "On-demand: 3 blocks of 100 mac past 1,000 (Growth, 1,250 used)"
    )
    assert terms.describe(terms.charge(1_001), 1_001, "Growth").startswith("On-demand: 1 block of")
