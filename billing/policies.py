"""Per-product billing policies (rule CAT-7) and the upgrade preferences of PREF-1."""

from __future__ import annotations

from enum import StrEnum


class UpgradeProration(StrEnum):
    PRORATE_KEEP_CYCLE = "PRORATE_KEEP_CYCLE"  # CHG-3
    RESET_CYCLE = "RESET_CYCLE"  # CHG-4


class DowngradeTiming(StrEnum):
    END_OF_PERIOD = "END_OF_PERIOD"  # CHG-6
    IMMEDIATE_WITH_CREDIT = "IMMEDIATE_WITH_CREDIT"  # CHG-7
    BY_REQUEST = "BY_REQUEST"  # CHG-8


class CancellationNotice(StrEnum):
    END_OF_PERIOD = "END_OF_PERIOD"  # CAN-1
    MONTH_PLUS_REMAINDER = "MONTH_PLUS_REMAINDER"  # CAN-2


class UpgradePreference(StrEnum):
    NONE = "NONE"
    AUTO_UPGRADE = "AUTO_UPGRADE"
    FLEXIBLE_OVERAGE = "FLEXIBLE_OVERAGE"
    ON_DEMAND = "ON_DEMAND"


# PREF-1: the preferences that act (and charge) when usage passes the limit, buying the next
# tier's volume; ON_DEMAND and NONE only count and gate.
ACTING_PREFERENCES = frozenset({UpgradePreference.AUTO_UPGRADE, UpgradePreference.FLEXIBLE_OVERAGE})
