"""USE-3 for the billing page: one month's counts per workspace, the last billing months' counts,
and the sandbox's test cards offered with a setup intent (PAY-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from billing.clock import FixedClock
from billing.periods import month_of, parse_month
from gateway.app import create_app
from gateway.settings import Settings
from models import Product, UsageCounter, Workspace
from payments.port import SetupIntent
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, token_for
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
RECORD = """mutation ($e: [UsageEventInput!]!) { recordUsage(events: $e) { __typename } }"""
BY_WORKSPACE = """query ($m: String) { organization { usageByWorkspace(month: $m) {
  workspace name archived product metric used } } }"""
HISTORY = """query ($n: Int!) { organization { usageHistory(months: $n) {
  month periodStart counts { product metric used } } } }"""
SETUP = "mutation { createSetupIntent { id clientSecret testCards { paymentMethodId brand last4 outcome } } }"


def _emails(prefix: str, quantity: int, workspace: str | None) -> dict[str, Any]:
    event = {"id": prefix, "product": "email", "metric": "emails", "quantity": quantity}
    return {**event, "workspace": workspace} if workspace else event


async def _record(gql: GraphQLClient, owner: str, events: list[dict[str, Any]]) -> None:
    body = await gql(RECORD, {"e": events}, as_user=owner)
    assert body["data"]["recordUsage"]["__typename"] == "UsageRecorded", body


async def test_counts_per_workspace_this_month_and_an_earlier_one_rule_use_3(
    gql: GraphQLClient,
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    await Workspace.create(organization=organization, slug="eu", name="Europe")
    await Workspace.create(organization=organization, slug="us", name="Americas")
    await _record(
        gql,
        owner,
        [_emails("a", 120, "us"), _emails("b", 30, "eu"), _emails("c", 5, None)],
    )
    march: list[dict[str, Any]] = [
        {"workspace": "eu", "name": "Europe", "archived": False, "used": 30},
        {"workspace": "us", "name": "Americas", "archived": False, "used": 120},
        {"workspace": None, "name": None, "archived": False, "used": 5},  # sent without one
    ]
    common = {"product": "email", "metric": "emails"}
    body = await gql(BY_WORKSPACE, {"m": None}, as_user=owner)
    assert body["data"]["organization"]["usageByWorkspace"] == [{**r, **common} for r in march]

    await gql("mutation { advanceTestClock(days: 22) { now } }", as_user=owner)  # 2 Apr
    await Workspace.filter(organization=organization, slug="eu").update(archived_at=SEEDED_AT)
    await _record(gql, owner, [_emails("d", 7, "us")])

    april = await gql(BY_WORKSPACE, {"m": None}, as_user=owner)
    assert april["data"]["organization"]["usageByWorkspace"] == [
        {"workspace": "us", "name": "Americas", "archived": False, "used": 7, **common}
    ]
    earlier = await gql(BY_WORKSPACE, {"m": "2026-03"}, as_user=owner)
    march[0]["archived"] = True  # archived since, its history still readable
    assert earlier["data"]["organization"]["usageByWorkspace"] == [{**r, **common} for r in march]

    history = await gql(HISTORY, {"n": 12}, as_user=owner)
    assert history["data"]["organization"]["usageHistory"] == [
        {
            "month": "2026-04",
            "periodStart": "2026-04-02T09:30:00+00:00",
            "counts": [{"used": 7, **common}],
        },
        {
            "month": "2026-03",
            "periodStart": "2026-03-02T09:30:00+00:00",
            "counts": [{"used": 155, **common}],
        },
    ]
    newest = await gql(HISTORY, {"n": 1}, as_user=owner)
    assert [m["month"] for m in newest["data"]["organization"]["usageHistory"]] == ["2026-04"]


async def test_the_open_month_is_listed_before_any_usage(gql: GraphQLClient) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    body = await gql(HISTORY, {"n": 3}, as_user=owner)
    assert body["data"]["organization"]["usageHistory"] == [
        {"month": "2026-03", "periodStart": "2026-03-02T09:30:00+00:00", "counts": []}
    ]
    by_workspace = await gql(BY_WORKSPACE, {"m": None}, as_user=owner)
    assert by_workspace["data"]["organization"]["usageByWorkspace"] == []


async def test_a_member_reads_the_counts_rule_acc_3(gql: GraphQLClient) -> None:
    # Counts only, no amounts: any member may read them.
    body = await gql(BY_WORKSPACE, {"m": None}, as_user="member@acme.test")
    mac = {
        r["workspace"]: r["used"]
        for r in body["data"]["organization"]["usageByWorkspace"]
        if r["metric"] == "mac"
    }
    assert mac == {"sales": 240, "support": 400}  # the demo's 640 MAC over two workspaces
    history = await gql(HISTORY, {"n": 1}, as_user="member@acme.test")
    counts = history["data"]["organization"]["usageHistory"][0]["counts"]
    assert {"product": "messaging", "metric": "mac", "used": 640} in counts


@pytest.mark.parametrize("months", [0, -1, 25])
async def test_history_length_out_of_range_is_refused(gql: GraphQLClient, months: int) -> None:
    body = await gql(HISTORY, {"n": months}, as_user="owner@acme.test")
    assert body["data"] is None or body["data"]["organization"] is None
    assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", f"Ask for 1 to 24 months of usage history, not {months}.")
    ]


async def test_a_malformed_month_is_refused_rule_use_3(gql: GraphQLClient) -> None:
    body = await gql(BY_WORKSPACE, {"m": "2026-3"}, as_user="owner@acme.test")
    assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        (
            "BAD_USER_INPUT",
            "A month is written YYYY-MM with a month from 01 to 12 (e.g. 2026-03), not '2026-3'.",
        )
    ]


async def test_history_reads_the_same_statements_however_many_months(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    for months_back in range(1, 7):
        await UsageCounter.create(
            organization_id=organization.id,
            product_id=(await _email_product_id()),
            metric="emails",
            period_start=PERIOD[0] - timedelta(days=31 * months_back),
            workspace="*",
            value=months_back,
        )
    await token_for(owner)
    await gql(HISTORY, {"n": 1}, as_user=owner)  # the caller and the catalog, kept afterwards
    before = sql_queries.count
    one = await gql(HISTORY, {"n": 1}, as_user=owner)
    few = sql_queries.count - before
    before = sql_queries.count
    many = await gql(HISTORY, {"n": 7}, as_user=owner)
    assert len(one["data"]["organization"]["usageHistory"]) == 1
    assert len(many["data"]["organization"]["usageHistory"]) == 7
    assert sql_queries.count - before == few


async def _email_product_id() -> int:
    return (await Product.get(code="email")).id


async def test_the_sandbox_offers_its_test_cards_rule_pay_2(gql: GraphQLClient) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    body = await gql(SETUP, as_user=owner)
    cards = body["data"]["createSetupIntent"]["testCards"]
    assert [(c["paymentMethodId"], c["last4"], c["outcome"]) for c in cards] == [
        ("pm_card_visa", "4242", "SUCCEEDS"),
        ("pm_card_mastercard", "4444", "SUCCEEDS"),
        ("pm_card_chargeDeclined", "0002", "DECLINED"),
        ("pm_card_chargeDeclinedInsufficientFunds", "9995", "INSUFFICIENT_FUNDS"),
        ("pm_card_authenticationRequired", "3184", "REQUIRES_AUTHENTICATION"),
        ("pm_card_expired", "0069", "EXPIRED"),
    ]


class _OtherProcessor:
    async def create_customer(self, reference: str, name: str) -> str:
        return "cus_other"

    async def create_setup_intent(self, customer_id: str) -> SetupIntent:
        return SetupIntent("seti_other", "seti_other_secret")


async def test_a_real_processor_offers_no_test_cards(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    app = create_app(settings, clock, _OtherProcessor(), manage_database=False)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        response = await http.post(
            "/graphql",
            json={"query": SETUP},
            headers={"Authorization": f"Bearer {await token_for(owner)}"},
        )
    assert response.json()["data"]["createSetupIntent"] == {
        "id": "seti_other",
        "clientSecret": "seti_other_secret",
        "testCards": None,
    }


@pytest.mark.parametrize(
    ("period_start", "month"),
    [
        (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), "2026-03"),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "2026-12"),
        (datetime(999, 1, 1, tzinfo=UTC), "0999-01"),
    ],
)
def test_month_of_is_what_usage_month_reads_back_rule_use_3(
    period_start: datetime, month: str
) -> None:
    assert month_of(period_start) == month
    assert parse_month(month) == (period_start.year, period_start.month)
