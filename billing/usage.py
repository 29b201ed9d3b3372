"""Usage against limits (rules USE-4 to USE-6, PREF-1 to PREF-4, CAN-4, DUN-5): pure decisions on
counts, for the metering that records them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from billing.policies import ACTING_PREFERENCES, UpgradePreference
from billing.proration import round_half_away_from_zero
from billing.subscription_status import SubscriptionStatus


class GateReason(StrEnum):
    ALLOWED = "ALLOWED"
    # NONE, or the highest tier under an acting preference: sending stops until an upgrade, a
    # flexible overage purchase or the next billing month.
    LIMIT_REACHED = "LIMIT_REACHED"
    AUTOMATIC_CHARGES_PAUSED = "AUTOMATIC_CHARGES_PAUSED"  # DUN-5
    SUBSCRIPTION_FROZEN = "SUBSCRIPTION_FROZEN"  # CAN-4
    SUBSCRIPTION_CANCELLING = "SUBSCRIPTION_CANCELLING"  # CAN-4
    TRIAL_ENDED = "TRIAL_ENDED"  # SUB-2: nothing is used until the organization subscribes
    CANCELLED = "CANCELLED"  # SUB-3: nothing is used until it subscribes again
    NO_SUBSCRIPTION = "NO_SUBSCRIPTION"


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reason: GateReason


# USE-5, CAN-4, SUB-2: the statuses in which no more usage is allowed, whatever the counts; every
# status is listed, so a new one must be decided here.
STATUS_BLOCKS: dict[SubscriptionStatus, GateReason | None] = {
    SubscriptionStatus.TRIALING: None,
    SubscriptionStatus.TRIAL_ENDED: GateReason.TRIAL_ENDED,
    SubscriptionStatus.ACTIVE: None,
    SubscriptionStatus.DOWNGRADING: None,
    SubscriptionStatus.CANCELLING: GateReason.SUBSCRIPTION_CANCELLING,
    SubscriptionStatus.PENDING_PAYMENT: None,  # DUN-2: the grace period keeps the service on
    SubscriptionStatus.FROZEN: GateReason.SUBSCRIPTION_FROZEN,
    SubscriptionStatus.CANCELLED: GateReason.CANCELLED,
}


@dataclass(frozen=True)
class GateFacts:
    """One line's standing for the gate: no status means no subscription (or not this product)."""

    status: SubscriptionStatus | None
    used: int
    limit: int | None
    preference: UpgradePreference | None = None
    automatic_charges_paused: bool = False
    higher_tier: bool = False


def gate(facts: GateFacts, quantity: int) -> GateDecision:
    """USE-5: may `quantity` more be used now? Nothing more after a trial ended or a cancellation,
    and outbound sending stops while FROZEN or CANCELLING (STATUS_BLOCKS).
    AUTO_UPGRADE and FLEXIBLE_OVERAGE buy the next tier's volume, so with no `higher_tier` they
    stop at the limit like NONE."""
    status, used, limit, preference = facts.status, facts.used, facts.limit, facts.preference
    if status is None:
        return GateDecision(False, GateReason.NO_SUBSCRIPTION)
    if (blocked := STATUS_BLOCKS[status]) is not None:
        return GateDecision(False, blocked)
    if limit is None or used + quantity <= limit or preference is UpgradePreference.ON_DEMAND:
        return GateDecision(True, GateReason.ALLOWED)
    if preference in ACTING_PREFERENCES and facts.higher_tier:
        if facts.automatic_charges_paused:
            return GateDecision(False, GateReason.AUTOMATIC_CHARGES_PAUSED)
        return GateDecision(True, GateReason.ALLOWED)
    return GateDecision(False, GateReason.LIMIT_REACHED)


def percent_used(used: int, limit: int | None) -> int | None:
    """Whole percent, rounded down, so 899 of 1,000 never reads as 90 %."""
    if not limit:
        return None
    return used * 100 // limit


def crossed_thresholds(
    used: int, limit: int | None, thresholds: Iterable[int], notified: Iterable[int]
) -> list[int]:
    """USE-4: the thresholds reached and not yet notified this period, lowest first."""
    if not limit:
        return []
    done = set(notified)
    return sorted(t for t in thresholds if t not in done and used * 100 >= t * limit)


def threshold_notice(product: str, metric: str, used: int, limit: int, crossed: list[int]) -> str:
    """USE-4: one notice for every threshold one batch crossed, with the share actually used
    (10,050 of 10,000 is 100 %, whichever thresholds it passed on the way)."""
    names = [f"{threshold} %" for threshold in crossed]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    noun = "threshold" if len(names) == 1 else "thresholds"
    share = percent_used(used, limit)
    return (
        f"{product}: {used:,} of {limit:,} {metric} used this billing month "
        f"({share} %; the {listed} {noun} reached)."
    )


def on_demand_blocks(used: int, limit: int, block_size: int) -> int:
    """USE-6: every started block of `block_size` past the limit is billed (1,250 on 1,000: 3)."""
    over = max(0, used - limit)
    return -(-over // block_size)


@dataclass(frozen=True)
class Overage:
    volume: int
    amount: int


def flexible_overage(limit: int, next_tier_limit: int, tier_price: int) -> Overage:
    """PREF-1: the next tier's extra volume at this tier's unit rate, one time
    (email-500: 5,000 more emails at $20 / 5,000 = $20.00)."""
    if next_tier_limit <= limit or limit <= 0:
        raise ValueError("flexible overage needs a bigger next tier")
    volume = next_tier_limit - limit
    return Overage(volume, round_half_away_from_zero(Fraction(tier_price * volume, limit)))


@dataclass(frozen=True)
class Tier:
    code: str
    limit: int


def smallest_fitting_tier(count: int, tiers: Sequence[Tier]) -> Tier | None:
    """The lowest tier whose limit holds `count` (tiers from lowest to highest)."""
    return next((tier for tier in tiers if count <= tier.limit), None)


def auto_downgrade_tier(profiles: int, current: Tier, tiers: Sequence[Tier]) -> Tier | None:
    """PREF-3: a lower tier for the next period when the profile count fits it."""
    fitting = smallest_fitting_tier(profiles, tiers)
    return fitting if fitting is not None and fitting.limit < current.limit else None


def autoscale_tier(
    last_three_months: Sequence[int], current: Tier, tiers: Sequence[Tier]
) -> Tier | None:
    """PREF-4: the tier matching the three-month average, when that average exceeds the current
    tier; one busy month (Black Friday) alone does not move it."""
    if len(last_three_months) < 3:
        return None
    average = Fraction(sum(last_three_months[-3:]), 3)
    if average <= current.limit:
        return None
    return next((tier for tier in tiers if average <= tier.limit), tiers[-1] if tiers else None)


def preference_allowed(preference: UpgradePreference, offered: Sequence[UpgradePreference]) -> bool:
    """PREF-2: only the preferences the product offers; products without limits offer none."""
    return preference in offered


def auto_downgrade_allowed(preference: UpgradePreference | None) -> bool:
    """PREF-3: never together with AUTO_UPGRADE."""
    return preference in (UpgradePreference.FLEXIBLE_OVERAGE, UpgradePreference.NONE)
