"""Persisted operations (ACC-6, api-contract): partners run only the trusted manifest's documents;
apps may use the automatic-persisted-query protocol."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from gateway.persisted import (
    MAX_REGISTERED,
    PERSISTED_QUERY_NOT_FOUND,
    OperationRefused,
    PersistedOperations,
)
from gateway.trusted_documents import (
    MANIFEST,
    compile_operations,
    document_hash,
    load_manifest,
    manifest_text,
)
from models import UsageCounter
from resolvers.api_keys import create_api_key
from schema import schema
from tests.conftest import SEEDED_AT, persisted, token_for, trusted_request
from tests.factories import organization_with

PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
EVENTS = [{"id": "p1", "product": "email", "metric": "emails", "quantity": 7}]
CATALOG = "{ catalog { currency } }"


async def _post(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _emails_counted(organization_id: object) -> int:
    counter = await UsageCounter.get_or_none(
        organization_id=organization_id, metric="emails", workspace="*"
    )
    return counter.value if counter else 0


async def test_partners_run_only_trusted_documents(client: httpx.AsyncClient) -> None:
    # ACC-6: the same mutation as text, under an unknown hash, or with text that is not the
    # hash's, is refused and records nothing; the trusted hash, with or without its text, runs.
    organization, _ = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    key = await create_api_key(organization.slug, "partner", ["usage:write"], datetime.now(UTC))
    trusted = trusted_request("RecordUsage", {"events": EVENTS})
    document = load_manifest()[trusted["extensions"]["persistedQuery"]["sha256Hash"]]

    as_text = await _post(client, key, {"query": document, "variables": {"events": EVENTS}})
    assert as_text["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "API keys run only trusted operations (ACC-6)" in as_text["errors"][0]["message"]
    unknown = await _post(
        client,
        key,
        {"variables": {"events": EVENTS}, "extensions": persisted(document_hash("x"))},
    )
    assert unknown["errors"][0]["extensions"]["code"] == PERSISTED_QUERY_NOT_FOUND
    other_text = await _post(client, key, {**trusted, "query": document + " "})
    assert other_text["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await _emails_counted(organization.id) == 0

    by_hash = await _post(client, key, trusted)
    assert by_hash["data"]["recordUsage"] == {
        "__typename": "UsageRecorded",
        "accepted": 1,
        "duplicates": 0,
    }
    with_text = await _post(client, key, {**trusted, "query": document})
    assert with_text["data"]["recordUsage"]["duplicates"] == 1
    assert await _emails_counted(organization.id) == 7


async def test_apps_register_a_query_once_then_send_its_hash(client: httpx.AsyncClient) -> None:
    # The automatic-persisted-query protocol: an unknown hash asks for the text, once.
    token = await token_for("member@acme.test")
    query = "{ catalog { currency } viewer { user { email } } }"
    sha256 = document_hash(query)

    unknown = await _post(client, token, {"extensions": persisted(sha256)})
    assert unknown["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": PERSISTED_QUERY_NOT_FOUND}}
    ]
    registered = await _post(client, token, {"query": query, "extensions": persisted(sha256)})
    by_hash = await _post(client, token, {"extensions": persisted(sha256)})
    assert by_hash == registered
    assert by_hash["data"]["viewer"]["user"]["email"] == "member@acme.test"
    by_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(sha256))},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert by_get.json() == registered


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": document_hash(CATALOG)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}},
        {"persistedQuery": "yes"},
        {"persistedQuery": {"version": 1, "sha256Hash": document_hash(CATALOG + "x")}},
    ],
)
async def test_a_malformed_or_wrong_hash_is_refused(
    client: httpx.AsyncClient, extensions: dict[str, Any]
) -> None:
    token = await token_for("member@acme.test")
    body = await _post(client, token, {"query": CATALOG, "extensions": extensions})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "extensions.persistedQuery" in body["errors"][0]["message"]
    assert "data" not in body or body["data"] is None


def test_registered_queries_are_bounded_least_recently_used_first() -> None:
    operations = PersistedOperations({}, registered_size=2)
    first, second, third = "{ a }", "{ b }", "{ c }"
    for query in (first, second):
        operations.document(
            query, persisted(document_hash(query)), partner=False, may_register=True
        )
    operations.document(None, persisted(document_hash(first)), partner=False)  # used again
    operations.document(third, persisted(document_hash(third)), partner=False, may_register=True)
    assert operations.document(None, persisted(document_hash(first)), partner=False) == first
    with pytest.raises(OperationRefused) as refused:
        operations.document(None, persisted(document_hash(second)), partner=False)
    assert refused.value.code == PERSISTED_QUERY_NOT_FOUND


def test_apps_cannot_register_under_a_partner_only_rule() -> None:
    # A document an app registered is not trusted: a partner naming its hash is refused.
    operations = PersistedOperations({})
    operations.document(
        CATALOG, persisted(document_hash(CATALOG)), partner=False, may_register=True
    )
    with pytest.raises(OperationRefused) as refused:
        operations.document(None, persisted(document_hash(CATALOG)), partner=True)
    assert refused.value.code == PERSISTED_QUERY_NOT_FOUND


@pytest.mark.parametrize(
    ("query", "may_register"),
    [
        (CATALOG, False),  # nobody signed in: it runs, but takes no room
        ("{ catalog { currency " + " " * MAX_REGISTERED + "} }", True),  # too long to keep
        ("{ catalog { currency }", True),  # does not parse
    ],
)
def test_only_signed_in_users_register_documents_that_parse(query: str, may_register: bool) -> None:
    operations = PersistedOperations({})
    sha256 = document_hash(query)
    assert (
        operations.document(query, persisted(sha256), partner=False, may_register=may_register)
        == query
    )
    with pytest.raises(OperationRefused) as refused:
        operations.document(None, persisted(sha256), partner=False, may_register=True)
    assert refused.value.code == PERSISTED_QUERY_NOT_FOUND


def test_the_manifest_is_current_and_every_document_is_valid() -> None:
    # ACC-6: operations/*.graphql compiled to sha256 -> document; a schema change that breaks a
    # partner's operation fails here, not in the partner's integration.
    documents = compile_operations()
    assert MANIFEST.read_text() == manifest_text(documents)
    assert load_manifest() == documents
    assert len(documents) >= 2
    graphql_schema = schema._schema
    for sha256, document in documents.items():
        assert document_hash(document) == sha256
        assert validate(graphql_schema, parse(document)) == []
