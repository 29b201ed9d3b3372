"""Scheduled changes per product line (rule CHG-6): several lines may each have one, other lines
still change, an upgrade replaces a line's scheduled downgrade, and the period end applies them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.conftest import GraphQLClient
from tests.factories import organization_with

PERIOD = (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), datetime(2026, 4, 2, 9, 30, tzinfo=UTC))
CHANGE = """mutation ($input: PlanChangeInput!, $confirm: Int!) { changePlan(input: $input, confirmAmountDue: $confirm) {
  __typename ... on UserError { code message } } }"""
PREVIEW = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
  kind amountDueNow { amount } replacesScheduledChange blockers { code } } }"""
STATE = """{ organization { subscription { status scheduledChange { plan { code } }
  items { product { code } prepaidPeriods scheduledChange { effectiveAt plan { code } } } } } }"""


async def _change(gql: GraphQLClient, owner: str, change: dict[str, Any]) -> str:
    preview = (await gql(PREVIEW, {"input": change}, as_user=owner))["data"]["previewPlanChange"]
    due = preview["amountDueNow"]["amount"]
    body = await gql(CHANGE, {"input": change, "confirm": due}, as_user=owner)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["changePlan"]
    return str(result["__typename"])


async def _state(gql: GraphQLClient, owner: str) -> dict[str, Any]:
    state: dict[str, Any] = (await gql(STATE, as_user=owner))["data"]["organization"]
    subscription: dict[str, Any] = state["subscription"]
    return subscription


async def test_each_line_has_its_own_scheduled_downgrade_chg_6(gql: GraphQLClient) -> None:
    # rule CHG-6: a second line's downgrade was refused ("A downgrade is already scheduled").
    _, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}, {"product": "email", "plan": "email-1500"}],
        period=PERIOD,
    )
    assert await _change(gql, owner, {"product": "messaging", "plan": "starter"}) == (
        "PlanChangeScheduled"
    )
    assert await _change(gql, owner, {"product": "email", "plan": "email-1000"}) == (
        "PlanChangeScheduled"
    )
    state = await _state(gql, owner)
    assert state["status"] == "DOWNGRADING"
    assert [(i["product"]["code"], i["scheduledChange"]) for i in state["items"]] == [
        ("messaging", {"effectiveAt": PERIOD[1].isoformat(), "plan": {"code": "starter"}}),
        ("email", {"effectiveAt": PERIOD[1].isoformat(), "plan": {"code": "email-1000"}}),
    ]
    assert state["scheduledChange"] == {"plan": {"code": "starter"}}  # the first line's
    assert [i["prepaidPeriods"] for i in state["items"]] == [0, 0]

    # An upgrade of the email line replaces its downgrade; the preview says so.
    upgrade = {"product": "email", "plan": "email-2500"}
    preview = (await gql(PREVIEW, {"input": upgrade}, as_user=owner))["data"]["previewPlanChange"]
    assert (preview["kind"], preview["replacesScheduledChange"], preview["blockers"]) == (
        "UPGRADE",
        True,
        [],
    )
    assert await _change(gql, owner, upgrade) == "PlanChangeApplied"
    state = await _state(gql, owner)
    assert state["status"] == "DOWNGRADING"  # messaging still has one
    assert [i["scheduledChange"] is None for i in state["items"]] == [False, True]

    # The last one replaced: ACTIVE again.
    assert await _change(gql, owner, {"product": "messaging", "plan": "advanced"}) == (
        "PlanChangeApplied"
    )
    state = await _state(gql, owner)
    assert (state["status"], state["scheduledChange"]) == ("ACTIVE", None)


async def test_both_scheduled_downgrades_apply_at_the_period_end_chg_6(
    gql: GraphQLClient,
) -> None:
    # rule CHG-6, MNY-4: the billing clock applies every line's change, then ACTIVE.
    _, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}, {"product": "email", "plan": "email-1500"}],
        period=PERIOD,
    )
    await _change(gql, owner, {"product": "messaging", "plan": "starter"})
    await _change(gql, owner, {"product": "email", "plan": "email-1000"})
    await gql("mutation { advanceTestClock(days: 21) { events } }", as_user=owner)
    body = await gql(
        "{ organization { subscription { status items { plan { code } scheduledChange { effectiveAt } } } } }",
        as_user=owner,
    )
    subscription = body["data"]["organization"]["subscription"]
    assert subscription == {
        "status": "ACTIVE",
        "items": [
            {"plan": {"code": "starter"}, "scheduledChange": None},
            {"plan": {"code": "email-1000"}, "scheduledChange": None},
        ],
    }


async def test_the_preview_says_in_words_which_downgrade_an_upgrade_replaces_chg_6(
    gql: GraphQLClient,
) -> None:
    # rule CHG-6: "the preview says so": the flag, and a note a person reads.
    _, owner = await organization_with([{"product": "email", "plan": "email-1500"}], period=PERIOD)
    preview_notes = """query ($input: PlanChangeInput!) { previewPlanChange(input: $input) {
      replacesScheduledChange notes } }"""
    upgrade = {"input": {"product": "email", "plan": "email-2500"}}
    before = await gql(preview_notes, upgrade, as_user=owner)
    assert before["data"]["previewPlanChange"] == {"replacesScheduledChange": False, "notes": []}

    assert await _change(gql, owner, {"product": "email", "plan": "email-1000"}) == (
        "PlanChangeScheduled"
    )
    after = await gql(preview_notes, upgrade, as_user=owner)
    assert after["data"]["previewPlanChange"] == {
        "replacesScheduledChange": True,
        "notes": [
            "Replaces the downgrade to Email 1,000 scheduled for 2 Apr 2026: "
            "that downgrade will not happen."
        ],
    }
