"""Ingestion's hot path (gateway/usage_ingest.py, schema/usage_variables.py): a partner's trusted
RecordUsage request is answered from its variables without graphql-core's execution. Each case
below is sent twice, to two organizations set up alike: once as partners send it, once with the
hot path switched off (graphql-core's coercion and Strawberry's conversion, as before). Both must
give the same bytes and leave the same rows; a bad batch changes nothing on either (USE-1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from strawberry.types import ExecutionResult
from tortoise import connections

from gateway.usage_ingest import UsageIngest
from models import ActiveContact, UsageCounter, UsageEvent, Workspace
from resolvers import usage, usage_store
from resolvers.api_keys import create_api_key
from resolvers.locks import is_postgres
from tests.conftest import SEEDED_AT, QueryCounter, trusted_request
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
EMAIL = {"id": "e1", "product": "email", "metric": "emails", "quantity": 3}
MAC = {"id": "m1", "product": "messaging", "metric": "mac", "contactId": "c1"}
MAC_IN_SUPPORT = {**MAC, "id": "m2", "workspace": "support"}
AN_HOUR_AGO = (SEEDED_AT - timedelta(hours=1)).isoformat()

# (case, variables, answered by the hot path)
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("email and mac", {"events": [EMAIL, MAC, MAC_IN_SUPPORT]}, True),
    ("a resent id in the batch", {"events": [EMAIL, EMAIL, {**EMAIL, "id": "e2"}]}, True),
    ("occurred an hour ago", {"events": [{**EMAIL, "occurredAt": AN_HOUR_AGO}]}, True),
    ("explicit nulls", {"events": [{**EMAIL, "contactId": None, "occurredAt": None}]}, True),
    # Refused by the rules (UserError), on either path:
    ("no events", {"events": []}, True),
    ("1,001 events", {"events": [{**EMAIL, "id": f"e{i}"} for i in range(1001)]}, True),
    ("unknown product", {"events": [EMAIL, {**EMAIL, "id": "x", "product": "fax"}]}, True),
    ("wrong metric", {"events": [{**EMAIL, "metric": "mac"}]}, True),
    ("mac without contact", {"events": [{**MAC, "contactId": None}]}, True),
    ("unknown workspace", {"events": [{**MAC, "workspace": "nowhere"}]}, True),
    ("blank id", {"events": [{**EMAIL, "id": "  "}]}, True),
    ("no time zone", {"events": [{**EMAIL, "occurredAt": "2026-03-12T09:00:00"}]}, True),
    ("in the future", {"events": [{**EMAIL, "occurredAt": "2099-01-01T00:00:00Z"}]}, True),
    ("negative quantity", {"events": [{**EMAIL, "quantity": -5}]}, True),
    # Left to graphql-core's coercion and the input limits (their errors, word for word):
    ("no id", {"events": [{k: v for k, v in EMAIL.items() if k != "id"}]}, False),
    ("null id", {"events": [{**EMAIL, "id": None}]}, False),
    ("numeric id", {"events": [{**EMAIL, "id": 7}]}, False),
    ("unknown field", {"events": [{**EMAIL, "amount": 3}]}, False),
    ("fractional quantity", {"events": [{**EMAIL, "quantity": 1.5}]}, False),
    ("whole float quantity", {"events": [{**EMAIL, "quantity": 2.0}]}, False),
    ("quantity as text", {"events": [{**EMAIL, "quantity": "3"}]}, False),
    ("boolean quantity", {"events": [{**EMAIL, "quantity": True}]}, False),
    ("quantity past 32 bits", {"events": [{**EMAIL, "quantity": 2**31}]}, False),
    ("id too long", {"events": [{**EMAIL, "id": "i" * 101}]}, False),
    ("NUL in contact", {"events": [{**MAC, "contactId": "c\x001"}]}, False),
    ("unreadable time", {"events": [{**EMAIL, "occurredAt": "yesterday"}]}, False),
    ("numeric time", {"events": [{**EMAIL, "occurredAt": 1700000000}]}, False),
    ("event not an object", {"events": [EMAIL, "e2"]}, False),
    ("one object, not a list", {"events": EMAIL}, False),
    ("events null", {"events": None}, False),
    ("no variables", {}, False),
    ("another variable too", {"events": [EMAIL], "more": 1}, False),
]


@pytest.fixture
def answered() -> Iterator[list[bool]]:
    """Whether the hot path answered each request since the test began."""
    seen: list[bool] = []
    original = UsageIngest.answer

    async def spy(self: UsageIngest, *args: Any, **kwargs: Any) -> ExecutionResult | None:
        result = await original(self, *args, **kwargs)
        seen.append(result is not None)
        return result

    UsageIngest.answer = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        UsageIngest.answer = original  # type: ignore[method-assign]


async def _partner() -> tuple[str, str]:
    """A new organization with email and messaging, a workspace `support`, and a usage key."""
    organization, _ = await organization_with(
        [
            {"product": "email", "plan": "email-1000", "upgrade_preference": "NONE"},
            {"product": "messaging", "plan": "growth"},
        ],
        period=PERIOD,
    )
    await Workspace.create(organization=organization, slug="support", name="Support")
    key = await create_api_key(organization.slug, "partner", ["usage:write"], datetime.now(UTC))
    return str(organization.id), key


async def _stored(organization_id: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    events = await UsageEvent.filter(organization_id=organization_id).order_by("event_id")
    counters = await UsageCounter.filter(organization_id=organization_id).order_by(
        "product_id", "metric", "workspace"
    )
    return (
        [
            (e.event_id, e.product_id, e.metric, e.quantity, e.contact_id, e.workspace)
            for e in events
        ],
        [(c.product_id, c.metric, c.workspace, c.value) for c in counters],
    )


async def _send(
    client: httpx.AsyncClient, key: str, variables: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json=trusted_request("RecordUsage", variables),
        headers={"Authorization": f"Bearer {key}", **headers},
    )


@pytest.mark.parametrize(("case", "variables", "hot"), CASES, ids=[c[0] for c in CASES])
async def test_rule_use_1_the_hot_path_answers_as_graphql_does(
    client: httpx.AsyncClient,
    answered: list[bool],
    case: str,
    variables: dict[str, Any],
    hot: bool,
) -> None:
    general_organization, general_key = await _partner()
    hot_organization, hot_key = await _partner()

    async def not_answered(*_: Any, **__: Any) -> ExecutionResult | None:
        return None

    original = UsageIngest.answer
    UsageIngest.answer = not_answered  # type: ignore[method-assign]
    try:
        general = await _send(client, general_key, variables)
    finally:
        UsageIngest.answer = original  # type: ignore[method-assign]
    hot_answer = await _send(client, hot_key, variables)

    assert answered == [hot], case
    assert hot_answer.status_code == general.status_code
    assert hot_answer.content == general.content
    body = hot_answer.json()
    recorded = (body.get("data") or {}).get("recordUsage") or {}
    assert await _stored(hot_organization) == await _stored(general_organization)
    if recorded.get("__typename") != "UsageRecorded":
        # A refused batch (UserError, or a BAD_USER_INPUT error from the variables) wrote nothing.
        assert await _stored(hot_organization) == ([], [])
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert recorded.get("__typename") == "UserError" or codes == ["BAD_USER_INPUT"], body


async def test_rule_use_1_the_hot_path_records_and_counts_resent_events_once(
    client: httpx.AsyncClient, answered: list[bool]
) -> None:
    organization_id, key = await _partner()
    first = await _send(client, key, {"events": [EMAIL, MAC, MAC_IN_SUPPORT]})
    again = await _send(client, key, {"events": [EMAIL, {**MAC, "id": "m3"}]})

    assert first.json() == {
        "data": {"recordUsage": {"__typename": "UsageRecorded", "accepted": 3, "duplicates": 0}}
    }
    assert again.json()["data"]["recordUsage"] == {
        "__typename": "UsageRecorded",
        "accepted": 1,
        "duplicates": 1,
    }
    assert answered == [True, True]
    _, counters = await _stored(organization_id)
    values = {(metric, workspace): value for _, metric, workspace, value in counters}
    # USE-2: contact c1 counts once in all workspaces and once in support.
    assert values == {
        ("emails", "*"): 3,
        ("emails", ""): 3,
        ("mac", "*"): 1,
        ("mac", ""): 1,
        ("mac", "support"): 1,
    }


async def test_rule_idm_1_the_hot_path_keeps_the_idempotency_key(
    client: httpx.AsyncClient, answered: list[bool]
) -> None:
    organization_id, key = await _partner()
    batch = {"events": [EMAIL]}
    first = await _send(client, key, batch, **{"Idempotency-Key": "ingest-0001"})
    again = await _send(client, key, batch, **{"Idempotency-Key": "ingest-0001"})
    other = await _send(client, key, {"events": [MAC]}, **{"Idempotency-Key": "ingest-0001"})

    assert first.json()["data"]["recordUsage"]["accepted"] == 1
    assert again.content == first.content  # the first answer, not "duplicates: 1"
    assert other.status_code == 422
    assert other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert answered[0] is True
    events, _ = await _stored(organization_id)
    assert [e[0] for e in events] == ["e1"]


async def test_the_hot_path_serves_only_usage_keys(
    client: httpx.AsyncClient, answered: list[bool]
) -> None:
    # A key without usage:write gets the general path's FORBIDDEN (CanRecordUsage).
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    refund_only = await create_api_key(
        organization.slug, "desk", ["billing:refund"], datetime.now(UTC)
    )
    response = await _send(client, refund_only, {"events": [EMAIL]})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answered == [False]
    assert await _stored(str(organization.id)) == ([], [])


def test_the_hot_path_knows_the_trusted_record_usage_document() -> None:
    from gateway.trusted_documents import load_manifest
    from schema import schema

    ingest = UsageIngest(load_manifest(), schema._schema)
    assert ingest.document is not None and "mutation RecordUsage(" in ingest.document


def test_every_field_of_a_usage_event_is_read_by_the_hot_path() -> None:
    # A field added to UsageEventInput but not to schema/usage_variables.py would send every
    # event carrying it down the general path (never lost, but no longer fast): kept equal.
    from schema import schema
    from schema.usage_variables import FIELDS

    event_type = schema._schema.get_type("UsageEventInput")
    assert set(event_type.fields) == FIELDS  # type: ignore[union-attr]


async def test_statements_of_a_partner_batch_rule_use_1(
    client: httpx.AsyncClient, sql_queries: QueryCounter
) -> None:
    # Steady state: the organization's lock and row, its subscription with items, its
    # workspaces, then events, contacts and counters set-based. PostgreSQL takes its advisory
    # lock, then reads the row, the subscription with items and the workspaces in one statement,
    # and records the events and the contacts and adds to the counters in one.
    # Past a blocking limit whose USAGE_LIMIT_REACHED was sent (EVT-1), no more: whether it was
    # sent comes back with the counters.
    organization_id, key = await _partner()
    await _send(client, key, {"events": [{**EMAIL, "id": "warm"}]})
    counts = []
    for batch, quantity in enumerate((3, 10_000, 5)):
        mac = {**MAC_IN_SUPPORT, "id": f"m{batch}", "contactId": f"c{batch}"}
        events = [{**EMAIL, "id": f"b{batch}", "quantity": quantity}, mac]
        before = sql_queries.count
        answer = await _send(client, key, {"events": events})
        assert answer.json()["data"]["recordUsage"]["__typename"] == "UsageRecorded"
        counts.append(sql_queries.count - before)
    sent = await UsageCounter.get(organization_id=organization_id, metric="emails", workspace="*")
    assert sent.limit_event_sent and sent.value == 10_011
    assert counts[0] == counts[2] == (3 if is_postgres(connections.get("default")) else 6), counts
    assert counts[1] > counts[0]  # the first batch past the limit sends the event


async def test_postgres_records_and_counts_in_one_statement_as_in_two(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resolvers/usage_store.py's `record_and_count` against `insert_new_events` + `count_new`:
    the same answers, events, counters and contacts (workspaces, "*", resent ids, a contact seen
    again, a quantity on a contact metric)."""
    if not is_postgres(connections.get("default")):
        pytest.skip("one statement on PostgreSQL only")
    mac_with_quantity = {**MAC, "id": "m3", "contactId": "c9", "quantity": 5}
    batches = [
        [EMAIL, {**EMAIL, "id": "e2", "workspace": "support", "quantity": 7}, MAC, MAC_IN_SUPPORT],
        [EMAIL, mac_with_quantity, {**MAC, "id": "m4", "contactId": "c2", "workspace": "support"}],
        [{**EMAIL, "id": "e3", "quantity": 0}, {**MAC, "id": "m5"}, {**MAC, "id": "m5"}],
    ]
    seen: dict[bool, Any] = {}
    counted_apart: list[bool] = []
    count_new = usage_store.count_new

    async def spy(*args: Any) -> Any:
        counted_apart.append(True)
        return await count_new(*args)

    monkeypatch.setattr(usage_store, "count_new", spy)
    for merged in (True, False):
        organization_id, key = await _partner()
        with monkeypatch.context() as patched:
            if not merged:
                patched.setattr(usage, "is_postgres", lambda _: False)
            answers = [(await _send(client, key, {"events": b})).json() for b in batches]
        assert len(counted_apart) == (0 if merged else 3)
        contacts = await ActiveContact.filter(organization_id=organization_id).order_by(
            "product_id", "workspace", "contact_id"
        )
        seen[merged] = (
            answers,
            await _stored(organization_id),
            [(c.product_id, c.workspace, c.contact_id) for c in contacts],
        )
    assert seen[True] == seen[False]
    assert [a["data"]["recordUsage"]["accepted"] for a in seen[True][0]] == [4, 2, 2]
