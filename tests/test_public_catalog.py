"""The public catalog (rule ACC-3): the pricing page's trusted document by anonymous GET, cached by
the catalog revision; the setting that turns the public catalog off; anonymous callers register
nothing (ACC-6)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
from starlette.types import Receive, Scope, Send

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.public_catalog import CACHE_SECONDS, PublicCatalogCache, public_documents
from gateway.settings import Settings
from gateway.trusted_documents import OPERATIONS, PORTAL_OPERATIONS, document_hash, load_manifest
from resolvers.catalog import catalog_changed
from tests.conftest import error_codes, persisted, token_for

PRICING = (OPERATIONS / "PricingCatalog.graphql").read_text()
PRICING_PAGE = (PORTAL_OPERATIONS / "PricingPage.graphql").read_text()  # GET /pricing's
PRICING_PARAMS = {"extensions": json.dumps(persisted(document_hash(PRICING)))}


@pytest_asyncio.fixture
async def private_catalog(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(settings, public_catalog=False), clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


def _monthly(body: dict[str, object], product: str, plan: str) -> int:
    products = body["data"]["catalog"]["products"]  # type: ignore[index]
    entry = next(p for p in products if p["code"] == product)
    prices = next(p for p in entry["plans"] if p["code"] == plan)["prices"]
    return int(next(p["amount"]["amount"] for p in prices if p["interval"] == "MONTHLY"))


def test_only_catalog_queries_of_the_manifest_are_public() -> None:
    manifest = load_manifest()
    public = public_documents(manifest)
    assert public == {document_hash(PRICING), document_hash(PRICING_PAGE)}
    mixed = "query Q { catalog { currency } viewer { user { email } } }"
    assert public_documents({document_hash(mixed): mixed}) == set()


async def _never_called(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("only _cacheable is asked")


@pytest.mark.parametrize(
    "extensions",
    ["[" * 100_000, "{", "null", '{"persistedQuery": 1}', json.dumps(persisted("0" * 64))],
)
def test_other_extensions_are_left_to_the_endpoint(extensions: str) -> None:
    cache = PublicCatalogCache(_never_called, frozenset({document_hash(PRICING)}))
    query_string = urlencode({"extensions": extensions}).encode()
    scope = {"type": "http", "method": "GET", "headers": [], "query_string": query_string}
    assert cache._cacheable(scope) is False
    scope["query_string"] = urlencode(PRICING_PARAMS).encode()
    assert cache._cacheable(scope) is True


async def test_acc3_the_pricing_page_gets_the_catalog_by_get_then_304(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/graphql", params=PRICING_PARAMS)
    assert first.status_code == 200
    assert "errors" not in first.json()
    assert _monthly(first.json(), "messaging", "advanced") == 27900
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == f"public, max-age={CACHE_SECONDS}"
    assert "Accept" in first.headers["vary"]

    again = await client.get("/graphql", params=PRICING_PARAMS, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    await catalog_changed()  # what `seed-demo` does when it writes a catalog
    changed = await client.get("/graphql", params=PRICING_PARAMS, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json() == first.json()


async def test_signed_in_and_posted_catalog_answers_are_not_publicly_cacheable(
    client: httpx.AsyncClient,
) -> None:
    token = await token_for("member@acme.test")
    signed_in = await client.get(
        "/graphql", params=PRICING_PARAMS, headers={"Authorization": f"Bearer {token}"}
    )
    assert signed_in.status_code == 200
    assert _monthly(signed_in.json(), "messaging", "advanced") == 27900
    assert signed_in.headers["cache-control"] == "no-store"
    assert "etag" not in signed_in.headers
    posted = await client.post("/graphql", json={"extensions": persisted(document_hash(PRICING))})
    assert "errors" not in posted.json()
    assert posted.headers["cache-control"] == "no-store"
    assert "etag" not in posted.headers


async def test_acc6_anonymous_callers_register_no_documents(client: httpx.AsyncClient) -> None:
    query = "query Anonymous { catalog { currency } }"
    extensions = persisted(document_hash(query))
    ran = await client.post("/graphql", json={"query": query, "extensions": extensions})
    assert ran.json() == {"data": {"catalog": {"currency": "USD"}}}
    by_hash = await client.get("/graphql", params={"extensions": json.dumps(extensions)})
    assert error_codes(by_hash.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert by_hash.headers["cache-control"] == "no-store"


async def test_acc3_gateway_public_catalog_false_asks_anonymous_callers_to_sign_in(
    private_catalog: httpx.AsyncClient,
) -> None:
    anonymous = await private_catalog.post("/graphql", json={"query": "{ catalog { currency } }"})
    assert anonymous.json()["data"] is None
    assert error_codes(anonymous.json()) == ["UNAUTHENTICATED"]
    assert "GATEWAY_PUBLIC_CATALOG" in anonymous.json()["errors"][0]["message"]

    by_get = await private_catalog.get("/graphql", params=PRICING_PARAMS)
    assert error_codes(by_get.json()) == ["UNAUTHENTICATED"]
    assert by_get.headers["cache-control"] == "no-store"
    assert "etag" not in by_get.headers

    token = await token_for("member@acme.test")
    member = await private_catalog.get(
        "/graphql", params=PRICING_PARAMS, headers={"Authorization": f"Bearer {token}"}
    )
    assert _monthly(member.json(), "messaging", "advanced") == 27900  # ACC-3: members too
