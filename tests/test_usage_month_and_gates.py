"""Meters of a month without usage, a malformed month, and gates after a trial or a cancellation
(USE-3, USE-5, CAN-4, SUB-2)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from billing.subscription_status import SubscriptionStatus
from models import Notification
from tests.conftest import SEEDED_AT, GraphQLClient, token_for
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
RECORD = "mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename } }"
METERS = (
    "query ($m: String) { organization { usage(month: $m) { product metric used periodStart } } }"
)
GATE = (
    'query { usageGate(product: "email", metric: "emails", quantity: 1) { allowed reason used } }'
)


async def _email_organization_with_70_emails(gql: GraphQLClient) -> str:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    events = [{"id": "m1", "product": "email", "metric": "emails", "quantity": 70}]
    recorded = await gql(RECORD, {"e": events}, as_user=owner)
    assert recorded["data"]["recordUsage"]["__typename"] == "UsageRecorded"
    return owner


async def test_a_month_without_usage_answers_that_month_rule_use_3(gql: GraphQLClient) -> None:
    # rule USE-3: January 2020 had no usage: its billing month (stepping from the anchor, the
    # 2nd at 09:30) reads zero, not the 70 e-mails of the open month.
    owner = await _email_organization_with_70_emails(gql)
    body = await gql(METERS, {"m": "2020-01"}, as_user=owner)
    assert body["data"]["organization"]["usage"] == [
        {"product": "email", "metric": m, "used": 0, "periodStart": "2020-01-02T09:30:00+00:00"}
        for m in ("profiles", "emails")
    ]
    current = await gql(METERS, {"m": "2026-03"}, as_user=owner)
    assert [meter["used"] for meter in current["data"]["organization"]["usage"]] == [0, 70]


@pytest.mark.parametrize(
    "month", ["2026-13", "March", "2026-00", "0000-01", "2026-3", "2026-03-01"]
)
async def test_a_malformed_month_is_refused_rule_use_3(gql: GraphQLClient, month: str) -> None:
    owner = await _email_organization_with_70_emails(gql)
    body = await gql(METERS, {"m": month}, as_user=owner)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (
        f"A month is written YYYY-MM with a month from 01 to 12 (e.g. 2026-03), not {month!r}."
    )


@pytest.mark.parametrize("month", ["2026-13", "0000-01", "March"])
async def test_usage_csv_refuses_a_malformed_month_rule_use_3(
    client: httpx.AsyncClient, gql: GraphQLClient, month: str
) -> None:
    owner = await _email_organization_with_70_emails(gql)
    response = await client.get(
        f"/usage.csv?month={month}", headers={"Authorization": f"Bearer {await token_for(owner)}"}
    )
    assert response.status_code == 400
    assert "A month is written YYYY-MM" in response.text


async def test_a_month_too_far_off_is_a_clear_error_rule_use_3(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    # "9999-12" answered INTERNAL (its billing month would end in year 10000).
    owner = await _email_organization_with_70_emails(gql)
    error = (await gql(METERS, {"m": "9999-12"}, as_user=owner))["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "Choose a month in the year 9998 or earlier."
    response = await client.get(
        "/usage.csv?month=9999-12", headers={"Authorization": f"Bearer {await token_for(owner)}"}
    )
    assert response.status_code == 400
    assert "9998 or earlier" in response.text


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (SubscriptionStatus.TRIAL_ENDED, "TRIAL_ENDED"),
        (SubscriptionStatus.CANCELLED, "CANCELLED"),
        (SubscriptionStatus.CANCELLING, "SUBSCRIPTION_CANCELLING"),
    ],
)
async def test_gate_blocks_after_a_trial_or_a_cancellation_rule_use_5_can_4_sub_2(
    gql: GraphQLClient, status: SubscriptionStatus, reason: str
) -> None:
    # rule USE-5, SUB-2, CAN-4: 0 of 10,000 e-mails used, yet nothing may be sent.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD, status=status
    )
    body = await gql(GATE, as_user=owner)
    assert body["data"]["usageGate"] == {"allowed": False, "reason": reason, "used": 0}


async def test_one_batch_crossing_two_thresholds_is_one_notice_rule_use_4(
    gql: GraphQLClient,
) -> None:
    # rule USE-4: 10,050 e-mails at once pass 75 % and 90 % of 10,000: one notice names both,
    # with the share actually used; a later batch crosses nothing new and sends nothing.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"}], period=PERIOD
    )
    events = [{"id": "big", "product": "email", "metric": "emails", "quantity": 10_050}]
    assert (await gql(RECORD, {"e": events}, as_user=owner))["data"]["recordUsage"] == {
        "__typename": "UsageRecorded"
    }
    more = [{"id": "more", "product": "email", "metric": "emails", "quantity": 10}]
    await gql(RECORD, {"e": more}, as_user=owner)
    notices = await Notification.filter(organization_id=organization.id, kind="USAGE_THRESHOLD")
    assert [n.message for n in notices] == [
        "Email: 10,050 of 10,000 emails used this billing month (100 %; the 75 % and 90 %"
        " thresholds reached)."
    ]
    read = await gql("{ organization { notifications { kind message } } }", as_user=owner)
    assert read["data"]["organization"]["notifications"] == [
        {"kind": "USAGE_THRESHOLD", "message": notices[0].message}
    ]
