"""For each demo product, an upgrade and a downgrade 10 days into a 31-day and a 30-day period:
the previewed amount, the amount charged, and an independent hand calculation (rules MNY-2,
CHG-2, CHG-3, CHG-4, CHG-6, CHG-7, CHG-8). The expected figures were worked out by hand from the
rules, with exact fractions, apart from this code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from billing.clock import FixedClock
from tests.conftest import SEEDED_AT, GraphQLClient
from tests.factories import organization_with

PERIODS = {
    31: (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC)),
    30: (datetime(2026, 4, 2, 9, 30, tzinfo=UTC), datetime(2026, 5, 2, 9, 30, tzinfo=UTC)),
}
MARKETING = {"contact_limit": 1000, "seats": 1}

# product, from, to, extra item terms, result type, {period: (line amounts, amount due now)}
SCENARIOS: list[tuple[str, str, str, dict[str, Any], str, dict[int, tuple[list[int], int]]]] = [
    (
        "messaging",
        "growth",
        "advanced",
        {},
        "PlanChangeApplied",
        {31: ([-10771, 27900], 17129), 30: ([-10600, 27900], 17300)},
    ),
    ("messaging", "growth", "starter", {}, "PlanChangeScheduled", {31: ([], 0), 30: ([], 0)}),
    (
        "email",
        "email-1000",
        "email-1500",
        {},
        "PlanChangeApplied",
        {31: ([-2032, 3048], 1016), 30: ([-2000, 3000], 1000)},
    ),
    ("email", "email-1000", "email-500", {}, "PlanChangeScheduled", {31: ([], 0), 30: ([], 0)}),
    (
        "helpdesk",
        "helpdesk-basic",
        "helpdesk-pro",
        {},
        "PlanChangeApplied",
        {31: ([-1694, 4065], 2371), 30: ([-1667, 4000], 2333)},
    ),
    (
        "helpdesk",
        "helpdesk-pro",
        "helpdesk-basic",
        {},
        "PlanChangeScheduled",
        {31: ([], 0), 30: ([], 0)},
    ),
    (
        "marketing",
        "plus",
        "pro",
        MARKETING,
        "PlanChangeApplied",
        {31: ([-3319, 5352], 2033), 30: ([-3267, 5267], 2000)},
    ),
    ("marketing", "pro", "plus", MARKETING, "AccountChangeRequested", {31: ([], 0), 30: ([], 0)}),
    (
        "store",
        "business",
        "unlimited",
        {},
        "PlanChangeApplied",
        {31: ([-3048, 7113], 4065), 30: ([-3000, 7000], 4000)},
    ),
    (
        "store",
        "business",
        "venture",
        {},
        "PlanChangeApplied",
        {31: ([-3048, 1694, 1354], 0), 30: ([-3000, 1667, 1333], 0)},
    ),
    (
        "store",
        "unlimited",
        "venture",
        {},
        "PlanChangeApplied",
        {31: ([-7113, 1694, 5000, 419], 0), 30: ([-7000, 1667, 5000, 333], 0)},
    ),
    (
        "recommendations",
        "rec-10k",
        "rec-50k",
        {},
        "PlanChangeApplied",
        {31: ([-6706, 13481], 6775), 30: ([-6600, 13267], 6667)},
    ),
    (
        "recommendations",
        "rec-50k",
        "rec-10k",
        {},
        "PlanChangeScheduled",
        {31: ([], 0), 30: ([], 0)},
    ),
]

PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  kind timing amountDueNow { amount } total { amount } lines { description amount { amount } } blockers { code } } }"""
CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) { changePlan(input: $input, confirmAmountDue: $confirm) {
  __typename
  ... on PlanChangeApplied { invoice { total { amount } amountDue { amount } status lines { amount { amount } } }
                             subscription { items { product { code } plan { code } } } }
  ... on PlanChangeScheduled { effectiveAt subscription { status } }
  ... on AccountChangeRequested { request { status message } }
  ... on UserError { code message } } }"""


@pytest.fixture
def clock_at(clock: FixedClock) -> Iterator[FixedClock]:
    yield clock
    clock.set(SEEDED_AT)


@pytest.mark.parametrize("days", [31, 30])
@pytest.mark.parametrize(
    ("product", "old", "new", "extra", "result", "expected"),
    SCENARIOS,
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_preview_equals_charge_equals_hand_calculation(
    gql: GraphQLClient,
    clock_at: FixedClock,
    days: int,
    product: str,
    old: str,
    new: str,
    extra: dict[str, Any],
    result: str,
    expected: dict[int, tuple[list[int], int]],
) -> None:
    start, end = PERIODS[days]
    clock_at.set(datetime(start.year, start.month, 12, 9, 30, tzinfo=UTC))  # 10 days in
    _, owner = await organization_with(
        [{"product": product, "plan": old, **extra}], period=(start, end)
    )
    change = {"product": product, "plan": new}
    lines, due = expected[days]

    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    assert preview["blockers"] == []
    assert [line["amount"]["amount"] for line in preview["lines"]] == lines
    assert preview["amountDueNow"]["amount"] == due
    assert preview["total"]["amount"] == sum(lines)  # MNY-2: the sum of the rounded lines

    applied = (await gql(CHANGE, {"input": change, "confirm": due}, as_user=owner))["data"][
        "changePlan"
    ]
    assert applied["__typename"] == result, applied
    if result == "PlanChangeApplied":
        invoice = applied["invoice"]
        assert invoice["amountDue"]["amount"] == due  # charged = previewed
        assert [line["amount"]["amount"] for line in invoice["lines"]] == lines
        assert invoice["status"] == "PAID"
        assert applied["subscription"]["items"][0]["plan"]["code"] == new
    if result == "PlanChangeScheduled":
        assert applied["effectiveAt"] == end.isoformat()
        assert applied["subscription"]["status"] == "DOWNGRADING"
    if result == "AccountChangeRequested":
        assert applied["request"]["status"] == "REQUESTED"
