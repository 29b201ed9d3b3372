"""Recording usage (USE-1, USE-2): batches validated whole, resent events counted once, distinct
contacts per period and workspace, meters and the gate (USE-3, USE-5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models import UsageCounter, UsageEvent, Workspace
from resolvers.api_keys import create_api_key
from resolvers.usage import EventInput
from schema import schema
from tests.conftest import SEEDED_AT, GraphQLClient, QueryCounter, token_for, trusted_request
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
RECORD = """mutation ($events: [UsageEventInput!]!) { recordUsage(events: $events) {
  __typename ... on UsageRecorded { accepted duplicates } ... on UserError { code message field } } }"""
METERS = "query ($ws: String) { organization { usage(workspace: $ws) { product metric used limit percent } } }"


async def _record(gql: GraphQLClient, user: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(RECORD, {"events": events}, as_user=user))["data"][
        "recordUsage"
    ]
    return result


async def test_mac_counts_distinct_contacts_per_workspace_and_in_all(gql: GraphQLClient) -> None:
    # USE-2: 1,250 distinct contacts over two workspaces, some active in both, some reported twice.
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "growth"}], period=PERIOD
    )
    for slug in ("support", "sales"):
        await Workspace.create(organization=organization, slug=slug, name=slug.title())
    support = [
        {
            "id": f"s{i}",
            "product": "messaging",
            "metric": "mac",
            "contactId": f"c{i}",
            "workspace": "support",
        }
        for i in range(800)
    ]
    sales = [
        {
            "id": f"x{i}",
            "product": "messaging",
            "metric": "mac",
            "contactId": f"c{i}",
            "workspace": "sales",
        }
        for i in range(600, 1250)
    ]
    again = [
        {
            "id": f"again{i}",
            "product": "messaging",
            "metric": "mac",
            "contactId": f"c{i}",
            "workspace": "support",
        }
        for i in range(10)
    ]
    assert await _record(gql, owner, support) == {
        "__typename": "UsageRecorded",
        "accepted": 800,
        "duplicates": 0,
    }
    assert (await _record(gql, owner, sales + again))["accepted"] == 660
    meters = {
        (m["product"], m["metric"]): m
        for m in (await gql(METERS, as_user=owner))["data"]["organization"]["usage"]
    }
    assert meters[("messaging", "mac")] == {
        "product": "messaging",
        "metric": "mac",
        "used": 1250,
        "limit": 1000,
        "percent": 125,
    }
    by_workspace = {
        ws: (await gql(METERS, {"ws": ws}, as_user=owner))["data"]["organization"]["usage"][0][
            "used"
        ]
        for ws in ("support", "sales")
    }
    assert by_workspace == {"support": 800, "sales": 650}


async def test_a_resent_event_counts_once(gql: GraphQLClient) -> None:
    # USE-1
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    batch = [
        {"id": "e1", "product": "email", "metric": "emails", "quantity": 300},
        {"id": "e2", "product": "email", "metric": "emails", "quantity": 200},
    ]
    assert (await _record(gql, owner, batch))["accepted"] == 2
    assert await _record(gql, owner, [*batch, batch[0]]) == {
        "__typename": "UsageRecorded",
        "accepted": 0,
        "duplicates": 3,
    }
    counter = await UsageCounter.get(
        organization_id=organization.id, metric="emails", workspace="*"
    )
    assert counter.value == 500


async def test_a_bad_event_refuses_the_whole_batch(gql: GraphQLClient) -> None:
    # The whole batch is refused, so none of it is half applied.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    good = {"id": "ok1", "product": "email", "metric": "emails", "quantity": 10}
    cases = [
        (
            {"id": "b1", "product": "email", "metric": "sms", "quantity": 1},
            "events[1].metric",
            "email meters ['profiles', 'emails'], not 'sms'",
        ),
        (
            {"id": "b2", "product": "email", "metric": "emails", "quantity": -5},
            "events[1].quantity",
            "expected a whole number of 0 or more, got -5",
        ),
        (
            {"id": "b3", "product": "store", "metric": "orders", "quantity": 1},
            "events[1].product",
            "'store' is not a product of this subscription",
        ),
        (
            {
                "id": "b4",
                "product": "email",
                "metric": "emails",
                "quantity": 1,
                "occurredAt": (PERIOD[0] - timedelta(days=1)).isoformat(),
            },
            "events[1].occurredAt",
            "the billing month it belongs to is closed",
        ),
    ]
    for bad, field, message in cases:
        result = await _record(gql, owner, [good, bad])
        assert (result["__typename"], result["field"]) == ("UserError", field)
        assert (
            message in result["message"]
            and "Nothing in this batch was recorded." in result["message"]
        )
    assert not await UsageEvent.filter(organization_id=organization.id).exists()
    assert not await UsageCounter.filter(organization_id=organization.id).exists()


async def test_the_gate_at_the_limit(gql: GraphQLClient) -> None:
    # USE-5, PREF-1: NONE stops at the limit; the limit is the plan's.
    _, owner = await organization_with(
        [{"product": "email", "plan": "email-500", "upgrade_preference": "NONE"}], period=PERIOD
    )
    gate = 'query ($q: Int!) { usageGate(product: "email", metric: "emails", quantity: $q) { allowed reason used limit } }'
    await _record(
        gql, owner, [{"id": "big", "product": "email", "metric": "emails", "quantity": 4_999}]
    )
    assert (await gql(gate, {"q": 1}, as_user=owner))["data"]["usageGate"] == {
        "allowed": True,
        "reason": "ALLOWED",
        "used": 4999,
        "limit": 5000,
    }
    assert (await gql(gate, {"q": 2}, as_user=owner))["data"]["usageGate"][
        "reason"
    ] == "LIMIT_REACHED"
    member_view = await gql("{ organization { usage { metric used } } }", as_user=owner)
    assert {"metric": "emails", "used": 4999} in member_view["data"]["organization"]["usage"]


async def test_profiles_are_what_is_stored_now(gql: GraphQLClient) -> None:
    # Stock metrics report the current total; the latest report wins and feeds CHG-1 blockers.
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    await _record(
        gql, owner, [{"id": "p1", "product": "email", "metric": "profiles", "quantity": 640}]
    )
    await _record(
        gql, owner, [{"id": "p2", "product": "email", "metric": "profiles", "quantity": 655}]
    )
    preview = (
        await gql(
            'query { previewPlanChange(input: {product: "email", plan: "email-500"}) { blockers { code message } } }',
            as_user=owner,
        )
    )["data"]["previewPlanChange"]
    assert preview["blockers"] == [
        {
            "code": "STOCK_ABOVE_LIMIT",
            "message": "655 profiles are stored, more than Email 500's 500.",
        }
    ]


async def test_partners_record_with_a_usage_key(client: httpx.AsyncClient) -> None:
    # ACC-6, USE-1: a partner's key with usage:write records for its own organization only.
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    key = await create_api_key(organization.slug, "partner", ["usage:write"], datetime.now(UTC))
    refund_only = await create_api_key(
        organization.slug, "desk", ["billing:refund"], datetime.now(UTC)
    )
    events = [{"id": "k1", "product": "email", "metric": "emails", "quantity": 7}]
    for token, expected in ((key, "UsageRecorded"), (refund_only, None)):
        response = await client.post(
            "/graphql",
            json=trusted_request("RecordUsage", {"events": events}),
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        if expected:
            assert body["data"]["recordUsage"]["__typename"] == expected
        else:
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (
        await UsageCounter.get(organization_id=organization.id, metric="emails", workspace="*")
    ).value == 7


async def test_usage_csv_export(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    # USE-3: per period, metric and workspace, for any member.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    await Workspace.create(organization=organization, slug="eu", name="EU")
    await _record(
        gql,
        owner,
        [{"id": "c1", "product": "email", "metric": "emails", "quantity": 120, "workspace": "eu"}],
    )
    response = await client.get(
        "/usage.csv", headers={"Authorization": f"Bearer {await token_for(owner)}"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    period = PERIOD[0].isoformat()
    assert response.text.splitlines() == [
        "period_start,product,metric,workspace,used",
        f"{period},email,emails,all,120",
        f"{period},email,emails,eu,120",
    ]
    assert (
        await client.get(
            "/usage.csv?month=March", headers={"Authorization": f"Bearer {await token_for(owner)}"}
        )
    ).status_code == 400
    assert (await client.get("/usage.csv")).status_code == 401
    march = await client.get(
        "/usage.csv?month=2026-03&workspace=eu",
        headers={"Authorization": f"Bearer {await token_for(owner)}"},
    )
    assert march.text.splitlines()[1:] == [f"{period},email,emails,eu,120"]
    april = await client.get(
        "/usage.csv?month=2026-04", headers={"Authorization": f"Bearer {await token_for(owner)}"}
    )
    assert april.text.splitlines() == ["period_start,product,metric,workspace,used"]


async def test_a_batch_costs_the_same_sql_statements_whatever_its_size(
    gql: GraphQLClient, sql_queries: QueryCounter
) -> None:
    # USE-1, USE-2 on the hot path: events, contacts and counters are written set-based, so 1,000
    # events cost no more statements than 10.
    organization, owner = await organization_with(
        [{"product": "messaging", "plan": "advanced"}], period=PERIOD
    )
    await Workspace.create(organization=organization, slug="support", name="Support")
    await token_for(owner)

    def batch(prefix: str, size: int) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{prefix}{i}",
                "product": "messaging",
                "metric": "mac",
                "contactId": f"{prefix}-c{i}",
                **({"workspace": "support"} if i % 2 else {}),
            }
            for i in range(size)
        ]

    await gql("{ organization { id } }", as_user=owner)  # the process now keeps the caller
    counts = []
    for prefix, size in (("small", 10), ("large", 1000)):
        events = batch(prefix, size)
        before = sql_queries.count
        assert (await _record(gql, owner, events))["accepted"] == size
        counts.append(sql_queries.count - before)
    assert counts[0] == counts[1], counts
    used = {
        c.workspace: c.value
        for c in await UsageCounter.filter(organization_id=organization.id, metric="mac")
    }
    assert used == {"*": 1010, "support": 505, "": 505}


def test_every_field_of_a_usage_event_reaches_the_recorder() -> None:
    # USE-1: the event input is built by its own hook (the hot path); a field added to the type
    # but not to the hook would be lost, so the two are compared here.
    from schema.usage import UsageEventInput

    definition = UsageEventInput.__strawberry_definition__  # type: ignore[attr-defined]
    sent = {
        "id": "e1",
        "product": "messaging",
        "metric": "mac",
        "quantity": 3,
        "contactId": "c1",
        "workspace": "support",
        "occurredAt": SEEDED_AT,
    }
    assert {schema.config.name_converter.from_field(f) for f in definition.fields} == set(sent)
    built = definition.from_input(UsageEventInput, sent, None)
    assert built.to_event() == EventInput(
        event_id="e1",
        product="messaging",
        metric="mac",
        quantity=3,
        contact_id="c1",
        workspace="support",
        occurred_at=SEEDED_AT,
    )
