"""Production defaults: GraphiQL is served from the gateway's own URLs (offline, cacheable), and is
off in production unless GATEWAY_GRAPHIQL=true; anonymous introspection is refused in production
unless GATEWAY_INTROSPECTION=true, while signed-in users may always introspect."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import pytest_asyncio

from billing.clock import FixedClock
from gateway.app import create_app
from gateway.settings import Mode, Settings
from tests.conftest import error_codes, token_for

HTML = {"accept": "text/html"}
SCHEMA_QUERY = "{ __schema { queryType { name } } }"
INTROSPECTIONS = {
    "schema": SCHEMA_QUERY,
    "type": '{ __type(name: "Query") { name } }',
    "in-a-fragment": 'query { ...F } fragment F on Query { __type(name: "Query") { name } }',
    "aliased": "{ s: __schema { queryType { name } } }",
}


@pytest_asyncio.fixture
async def production(
    database: str, settings: Settings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The shipped production defaults: GraphiQL and anonymous introspection off."""
    app = create_app(
        replace(settings, mode=Mode.PRODUCTION, graphiql=False, anonymous_introspection=False),
        clock,
        manage_database=False,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


async def test_graphiql_page_uses_only_the_gateways_own_urls(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "://" not in page and "//" not in page.replace("://", "")  # no CDN, no other host
    assert "<script>" not in page and "<style" not in page  # no inline script or style (CSP)
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(url.rsplit("/", 1)[1] for url in urls) == [
        "graphiql-page.css",
        "graphiql-start.js",
        "graphiql.min.css",
        "graphiql.min.js",
        "react-dom.production.min.js",
        "react.production.min.js",
    ]
    assert all(url.startswith("/graphiql/") for url in urls)


async def test_graphiql_assets_are_served_with_long_caching_and_match_their_integrity(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/graphql", headers=HTML)).text
    for url, integrity in re.findall(r'(?:src|href)="([^"]+)" integrity="([^"]+)"', page):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-type"].startswith(
            "text/javascript" if url.endswith(".js") else "text/css"
        )
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert integrity == f"sha384-{digest}", url
        assert url.split("/")[2] == hashlib.sha256(response.content).hexdigest()[:16]


@pytest.mark.parametrize(
    "url",
    [
        "/graphiql/0000000000000000/graphiql.min.js",  # an old or made-up version
        "/graphiql/0000000000000000/settings.py",
    ],
)
async def test_unknown_graphiql_files_are_404(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 404
    assert error_codes(response.json()) == ["NOT_FOUND"]


async def test_graphiql_is_off_in_production(production: httpx.AsyncClient) -> None:
    response = await production.get("/graphql", headers=HTML)
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "GATEWAY_GRAPHIQL=true" in error["message"]
    assert (await production.get("/graphiql/0000000000000000/graphiql.min.js")).status_code == 404


async def test_graphiql_can_be_turned_on_in_production(
    database: str, settings: Settings, clock: FixedClock
) -> None:
    app = create_app(
        replace(settings, mode=Mode.PRODUCTION, graphiql=True, anonymous_introspection=False),
        clock,
        manage_database=False,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        page = await http.get("/graphql", headers=HTML)
        script = re.search(r'src="(/graphiql/[^"]+/graphiql.min.js)"', page.text)
        assert page.status_code == 200 and script is not None
        assert (await http.get(script.group(1))).status_code == 200


@pytest.mark.parametrize("query", INTROSPECTIONS.values(), ids=list(INTROSPECTIONS))
async def test_anonymous_introspection_is_refused_in_production(
    production: httpx.AsyncClient, query: str
) -> None:
    response = await production.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"].startswith(
        "Introspection is for signed-in callers only on this gateway: send "
        "'Authorization: Bearer <token>'"
    )


async def test_typename_is_not_introspection(production: httpx.AsyncClient) -> None:
    response = await production.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_signed_in_users_may_introspect_in_production(
    production: httpx.AsyncClient,
) -> None:
    token = await token_for("member@acme.test")
    response = await production.post(
        "/graphql", json={"query": SCHEMA_QUERY}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_anonymous_introspection_in_sandbox_and_when_turned_on(
    client: httpx.AsyncClient, database: str, settings: Settings, clock: FixedClock
) -> None:
    expected = {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert (await client.post("/graphql", json={"query": SCHEMA_QUERY})).json() == expected
    opened = replace(settings, mode=Mode.PRODUCTION, anonymous_introspection=True)
    app = create_app(opened, clock, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        assert (await http.post("/graphql", json={"query": SCHEMA_QUERY})).json() == expected
