"""What a line does when its usage reaches the plan's limit, by its upgrade preference (PREF-1,
USE-5, USE-6): AUTO_UPGRADE moves to the next tier, FLEXIBLE_OVERAGE buys the next tier's extra
volume, ON_DEMAND bills blocks past the limit on the usage invoice, NONE only stops the gate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from billing.catalog import ProductPolicy
from billing.policies import ACTING_PREFERENCES, UpgradePreference
from billing.subscription_status import SubscriptionStatus
from billing.usage import GateFacts, GateReason, gate, on_demand_blocks


class LimitAction(StrEnum):
    NOTHING = "NOTHING"
    AUTO_UPGRADE = "AUTO_UPGRADE"  # PREF-1: to the next tier, charged as an upgrade
    BUY_OVERAGE = "BUY_OVERAGE"  # PREF-1: the next tier's extra volume, one time
    TELL_HIGHEST_TIER = "TELL_HIGHEST_TIER"  # USE-5: nothing higher to buy, the gate blocks


@dataclass(frozen=True)
class LimitFacts:
    preference: UpgradePreference | None
    used: int
    limit: int | None
    bought: int = 0  # volume bought this billing month (flexible overage)
    higher_tier: bool = True
    # The billing month the usage belongs to is still the open one: a move to a higher tier
    # no longer serves a closed month, volume bought still does.
    month_open: bool = True
    highest_tier_told: bool = False  # this month's notice that nothing higher can be bought


def action_at_limit(facts: LimitFacts) -> LimitAction:
    preference = facts.preference
    if preference not in ACTING_PREFERENCES or facts.limit is None:
        return LimitAction.NOTHING
    upgrading = preference is UpgradePreference.AUTO_UPGRADE
    if upgrading and not facts.month_open:
        return LimitAction.NOTHING
    if facts.used <= facts.limit + facts.bought:
        return LimitAction.NOTHING
    if not facts.higher_tier:
        told = facts.highest_tier_told
        return LimitAction.NOTHING if told else LimitAction.TELL_HIGHEST_TIER
    return LimitAction.AUTO_UPGRADE if upgrading else LimitAction.BUY_OVERAGE


def buys_at_month_close(preference: UpgradePreference | None) -> bool:
    """PREF-1: volume past the limit and not yet bought (a purchase that never ran) is bought
    when the billing month closes; only FLEXIBLE_OVERAGE buys volume."""
    return preference is UpgradePreference.FLEXIBLE_OVERAGE


@dataclass(frozen=True)
class OnDemandCharge:
    blocks: int
    amount: int  # in minor units of the catalog's currency


@dataclass(frozen=True)
class OnDemandTerms:
    """USE-6: one line's blocks past the limit of its product's on-demand metric."""

    metric: str
    limit: int
    block_size: int
    block_price: int

    def charge(self, used: int) -> OnDemandCharge:
        blocks = on_demand_blocks(used, self.limit, self.block_size)
        return OnDemandCharge(blocks, blocks * self.block_price)

    def describe(self, charge: OnDemandCharge, used: int, plan_name: str) -> str:
        blocks = charge.blocks
        return (
            f"On-demand: {blocks} block{'s' if blocks > 1 else ''} of {self.block_size:,} "
            f"{self.metric} past {self.limit:,} ({plan_name}, {used:,} used)"
        )


def on_demand_terms(
    preference: UpgradePreference | None, policy: ProductPolicy, limits: Mapping[str, int]
) -> OnDemandTerms | None:
    """USE-6: a line is billed on demand when its preference is ON_DEMAND, its plan limits the
    product's on-demand metric and the catalog prices that metric's blocks; otherwise None."""
    metric, size, price = (
        policy.on_demand_metric,
        policy.on_demand_block_size,
        policy.on_demand_block_price,
    )
    if preference is not UpgradePreference.ON_DEMAND or not metric or not size or price is None:
        return None
    limit = limits.get(metric)
    if limit is None:
        return None
    return OnDemandTerms(metric, limit, size, price)


def blocks_at_limit(preference: UpgradePreference | None, used: int, limit: int | None) -> bool:
    """EVT-1, USE-5: the gate now refuses more because the limit is used up, on a line whose
    preference does not act there (NONE or none set; ON_DEMAND never blocks). An acting
    preference on the highest tier is TELL_HIGHEST_TIER's, above."""
    if preference in ACTING_PREFERENCES:
        return False
    facts = GateFacts(SubscriptionStatus.ACTIVE, used, limit, preference)  # the status aside
    return gate(facts, 1).reason is GateReason.LIMIT_REACHED
