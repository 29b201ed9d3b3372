"""What one request may cost (README "Limits"): each limit refuses with QUERY_TOO_COMPLEX naming
the limit and the value, before anything runs; queries, never mutations, have a time limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import OperationDefinitionNode, parse, print_ast
from graphql.language.lexer import Lexer
from starlette.types import Message

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.limit_settings import RequestLimits
from gateway.settings import Settings
from gateway.trusted_documents import OPERATIONS, document_hash
from models import SubscriptionItem
from resolvers.loaders import Loaders
from tests.conftest import SEEDED_AT, persisted, token_for, trusted_request
from tests.factories import organization_with

GRAPHQL_RESPONSE = "application/graphql-response+json"
PERIOD = (SEEDED_AT - timedelta(days=10), SEEDED_AT + timedelta(days=21))
PREVIEW = 'previewPlanChange(input: {product: "email", plan: "email-2500"}) { kind }'
DEFAULTS = RequestLimits()


async def _post(
    client: httpx.AsyncClient, query: str, token: str | None = None, **body: Any
) -> httpx.Response:
    headers = {"Accept": GRAPHQL_RESPONSE}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query, **body}, headers=headers)


def _refusal(response: httpx.Response, limit: str) -> dict[str, Any]:
    """The one QUERY_TOO_COMPLEX error of a request error (400, no data) naming `limit`."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == limit
    assert limit in error["message"]
    extensions: dict[str, Any] = error["extensions"]
    return extensions


@pytest_asyncio.fixture
async def billing_token(database: str) -> str:
    _, owner = await organization_with([{"product": "email", "plan": "email-1000"}], period=PERIOD)
    return await token_for(owner)


async def test_aliases_past_the_limit_are_refused_naming_the_count(
    client: httpx.AsyncClient,
) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(DEFAULTS.max_aliases + 1)) + " }"
    extensions = _refusal(await _post(client, query), "GATEWAY_MAX_ALIASES")
    assert (extensions["maximum"], extensions["value"]) == (30, 31)
    allowed = "{ " + " ".join(f"a{i}: __typename" for i in range(DEFAULTS.max_aliases)) + " }"
    response = await _post(client, allowed)
    assert response.status_code == 200 and response.json()["data"]["a29"] == "Query"


async def test_depth_past_the_limit_is_refused_through_fragments(
    client: httpx.AsyncClient, billing_token: str
) -> None:
    # 16 levels, ten of them inside a fragment: refused before validation looks at the names.
    query = (
        "{ a { b { c { d { e { f { ...F } } } } } } } "
        "fragment F on X { g { h { i { j { k { l { m { n { o { p } } } } } } } } } }"
    )
    extensions = _refusal(await _post(client, query, billing_token), "GATEWAY_MAX_DEPTH")
    assert (extensions["maximum"], extensions["value"]) == (15, 16)


async def test_estimated_cost_counts_quotes_and_refuses_past_the_budget(
    client: httpx.AsyncClient, billing_token: str
) -> None:
    # 30 quotes (within the alias limit: 29 aliases) cost 30 x 101, above 3,000.
    query = "{ " + PREVIEW + " " + " ".join(f"p{i}: {PREVIEW}" for i in range(29)) + " }"
    extensions = _refusal(await _post(client, query, billing_token), "GATEWAY_MAX_COST")
    assert (extensions["maximum"], extensions["value"]) == (3000, 3030)
    few = "{ " + " ".join(f"p{i}: {PREVIEW}" for i in range(3)) + " }"
    answer = (await _post(client, few, billing_token)).json()
    assert answer["data"]["p2"]["kind"] == "UPGRADE", answer


async def test_estimated_cost_counts_the_page_size_asked_for(
    client: httpx.AsyncClient, billing_token: str
) -> None:
    fields = " ".join(["id number status total { amount currency formatted }"] * 1)
    query = "query ($n: Int) { organization { invoices(first: $n) { edges { node { %s } } } } }"
    query %= fields
    small = await _post(client, query, billing_token, variables={"n": 5})
    assert small.status_code == 200 and "errors" not in small.json(), small.text
    extensions = _refusal(
        await _post(client, query, billing_token, variables={"n": 1000}), "GATEWAY_MAX_COST"
    )
    assert extensions["value"] == 1 + 10 + 1000 * 9


async def test_anonymous_callers_have_the_lower_budget(
    client: httpx.AsyncClient, billing_token: str
) -> None:
    # Four copies of the pricing page's public catalog query: too dear anonymously (4 x 88),
    # fine signed in.
    query = _copies_of_pricing_catalog(4)
    extensions = _refusal(await _post(client, query), "GATEWAY_MAX_COST_ANONYMOUS")
    assert extensions["maximum"] == 300 and 300 < extensions["value"] <= 3000
    signed_in = await _post(client, query, billing_token)
    assert signed_in.status_code == 200 and signed_in.json()["data"]["c3"]["currency"] == "USD"


def _copies_of_pricing_catalog(copies: int) -> str:
    document = parse((OPERATIONS / "PricingCatalog.graphql").read_text())
    operation, *fragments = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    field = print_ast(operation.selection_set.selections[0])
    aliased = " ".join(f"c{i}: {field}" for i in range(copies))
    return "{ " + aliased + " } " + " ".join(print_ast(f) for f in fragments)


async def test_token_limit_stops_the_parser_at_the_limit(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 200,000 tokens sent; the parser reads no more than the limit and builds no document.
    read = 0
    advance = Lexer.advance

    def counted(self: Lexer) -> Any:
        nonlocal read
        read += 1
        return advance(self)

    monkeypatch.setattr(Lexer, "advance", counted)
    query = "{ " + "a " * 199_998 + "}"
    extensions = _refusal(await _post(client, query), "GATEWAY_MAX_QUERY_TOKENS")
    assert extensions["maximum"] == DEFAULTS.max_query_tokens
    assert DEFAULTS.max_query_tokens <= read <= DEFAULTS.max_query_tokens + 2


async def test_a_body_past_the_limit_gets_413_without_reading_the_rest(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    small = replace(settings, limits=RequestLimits(max_body_bytes=4096))
    app = create_app(small, clock, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        declared = await client.post(
            "/graphql", content=b" " * 5000, headers={"Content-Type": "application/json"}
        )
    assert declared.status_code == 413
    [error] = declared.json()["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "GATEWAY_MAX_BODY_BYTES",
        "maximum": 4096,
        "value": 5000,
    }
    # Chunked (no Content-Length): reading stops at the chunk that passes the limit.
    status, chunks_read = await _chunked_post(app, chunk=1000, chunks=1000)
    assert (status, chunks_read) == (413, 5)


async def _chunked_post(app: Any, chunk: int, chunks: int) -> tuple[int, int]:
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b" " * chunk, "more_body": read < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway.test"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("gateway.test", 80),
    }
    await app(scope, receive, send)
    return int(sent[0]["status"]), read


@pytest_asyncio.fixture
async def slow_catalog(
    database: str, settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose queries may run 0.2 s, with a catalog that takes 0.5 s to load."""
    load = Loaders.catalog

    async def slow(self: Loaders) -> Any:
        await asyncio.sleep(0.5)
        return await load(self)

    monkeypatch.setattr(Loaders, "catalog", slow)
    quick = replace(settings, limits=RequestLimits(query_timeout_seconds=0.2))
    app = create_app(quick, clock, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        yield client


async def test_a_query_past_the_time_limit_is_stopped(slow_catalog: httpx.AsyncClient) -> None:
    response = await _post(slow_catalog, "{ catalog { currency } }")
    extensions = _refusal(response, "GATEWAY_QUERY_TIMEOUT_SECONDS")
    assert extensions["maximum"] == 0.2


async def test_a_mutation_is_never_cancelled_by_the_time_limit(
    slow_catalog: httpx.AsyncClient,
) -> None:
    # PREF-1: the preference is written although the mutation outlasts the query time limit.
    organization, owner = await organization_with(
        [{"product": "email", "plan": "email-1000"}], period=PERIOD
    )
    mutation = """mutation { setUpgradePreference(product: "email", preference: AUTO_UPGRADE) {
      __typename ... on ProductPreferences { preference } } }"""
    response = await _post(slow_catalog, mutation, await token_for(owner))
    assert response.status_code == 200, response.text
    answer = response.json()["data"]["setUpgradePreference"]
    assert answer == {"__typename": "ProductPreferences", "preference": "AUTO_UPGRADE"}
    item = await SubscriptionItem.get(
        subscription__organization_id=organization.id, product__code="email"
    )
    assert item.upgrade_preference == "AUTO_UPGRADE"


async def test_an_automatic_persisted_query_past_a_limit_is_refused_and_not_registered(
    client: httpx.AsyncClient, billing_token: str
) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
    extensions = persisted(document_hash(query))
    refused = await _post(client, query, billing_token, extensions=extensions)
    assert _refusal(refused, "GATEWAY_MAX_ALIASES")["value"] == 40
    by_hash = await client.post(
        "/graphql",
        json={"extensions": extensions},
        headers={"Authorization": f"Bearer {billing_token}"},
    )
    assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_trusted_document_named_by_its_hash_is_measured_too(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    # ACC-6's PricingCatalog (cost 89) under a budget of 50 for anonymous callers.
    tight = replace(settings, limits=RequestLimits(max_cost=100, max_cost_anonymous=50))
    app = create_app(tight, clock, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.post(
            "/graphql",
            json=trusted_request("PricingCatalog", {}),
            headers={"Accept": GRAPHQL_RESPONSE},
        )
    extensions = _refusal(response, "GATEWAY_MAX_COST_ANONYMOUS")
    assert (extensions["maximum"], extensions["value"]) == (50, 89)
