"""rule CHG-6, INT-1: the scheduled change of one product line and its one JSON form."""

from __future__ import annotations

import pytest

from billing.periods import BillingInterval
from billing.scheduled_change import (
    ScheduledChange,
    ScheduledKind,
    has_downgrade,
    interval_switch,
)

DOWNGRADE = ScheduledChange(ScheduledKind.DOWNGRADE, {"plan_id": 7, "add_ons": []})
SWITCH = ScheduledChange(ScheduledKind.INTERVAL, {"plan_id": 3}, BillingInterval.ANNUAL)


@pytest.mark.parametrize("change", [DOWNGRADE, SWITCH])
def test_json_round_trip(change: ScheduledChange) -> None:
    assert ScheduledChange.from_json(change.to_json()) == change


def test_the_json_form() -> None:
    assert SWITCH.to_json() == {"kind": "interval", "terms": {"plan_id": 3}, "interval": "ANNUAL"}
    assert DOWNGRADE.plan_id == 7


@pytest.mark.parametrize(
    ("kind", "interval"),
    [(ScheduledKind.INTERVAL, None), (ScheduledKind.DOWNGRADE, BillingInterval.ANNUAL)],
)
def test_an_interval_only_on_an_interval_switch(
    kind: ScheduledKind, interval: BillingInterval | None
) -> None:
    with pytest.raises(ValueError):
        ScheduledChange(kind, {}, interval)


@pytest.mark.parametrize(
    ("changes", "downgrading", "switch"),
    [
        ([], False, None),
        ([None, None], False, None),
        ([None, DOWNGRADE], True, None),  # CHG-6: one line is enough
        ([DOWNGRADE, DOWNGRADE], True, None),  # several lines may each have one
        ([SWITCH, SWITCH], False, BillingInterval.ANNUAL),
    ],
)
def test_what_the_lines_add_up_to(
    changes: list[ScheduledChange | None], downgrading: bool, switch: BillingInterval | None
) -> None:
    assert (has_downgrade(changes), interval_switch(changes)) == (downgrading, switch)
