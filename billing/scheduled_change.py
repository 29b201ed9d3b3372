"""A change of one product line waiting for the end of the period (CHG-6, INT-1).

Stored on the subscription item it belongs to; this module is the one place that reads and
writes its JSON form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from billing.periods import BillingInterval


class ScheduledKind(StrEnum):
    DOWNGRADE = "downgrade"  # CHG-6: the line moves to `terms` when the period ends
    INTERVAL = "interval"  # INT-1: paid already; the longer interval starts at the period end


@dataclass(frozen=True)
class ScheduledChange:
    kind: ScheduledKind
    # The line's wanted terms, in the resolvers' item-terms JSON form (plan and price ids).
    terms: Mapping[str, Any] = field(default_factory=dict)
    interval: BillingInterval | None = None

    def __post_init__(self) -> None:
        if (self.kind is ScheduledKind.INTERVAL) != (self.interval is not None):
            raise ValueError("an interval switch, and only one, names its interval")

    @property
    def plan_id(self) -> int:
        return int(self.terms["plan_id"])

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value, "terms": dict(self.terms)}
        if self.interval is not None:
            data["interval"] = self.interval.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduledChange:
        interval = data.get("interval")
        return cls(
            kind=ScheduledKind(data["kind"]),
            terms=dict(data.get("terms") or {}),
            interval=BillingInterval(interval) if interval else None,
        )


def has_downgrade(changes: Iterable[ScheduledChange | None]) -> bool:
    """CHG-6: the subscription is DOWNGRADING while any line has a downgrade scheduled."""
    return any(c is not None and c.kind is ScheduledKind.DOWNGRADE for c in changes)


def interval_switch(changes: Iterable[ScheduledChange | None]) -> BillingInterval | None:
    """INT-1: the interval every line switches to at the period end, if one was paid for."""
    return next(
        (c.interval for c in changes if c is not None and c.kind is ScheduledKind.INTERVAL), None
    )
