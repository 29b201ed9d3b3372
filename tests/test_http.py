"""The GraphQL endpoint over HTTP: bad requests get a coded, actionable error; unexpected failures
are masked; GraphiQL is served."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from resolvers.loaders import Loaders
from tests.conftest import GraphQLClient, error_codes, token_for


async def test_malformed_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "{ viewer', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not valid JSON" in error["message"]


async def test_unknown_field(gql: GraphQLClient) -> None:
    body = await gql("{ organization { name balance } }", as_user="owner@acme.test")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "Cannot query field 'balance' on type 'Organization'." in body["errors"][0]["message"]
    assert "data" not in body or body["data"] is None


async def test_wrong_variable_type(gql: GraphQLClient) -> None:
    body = await gql(
        "query ($code: String!) { catalog { product(code: $code) { name } } }",
        {"code": 42},
        as_user="owner@acme.test",
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "$code" in body["errors"][0]["message"]


async def test_syntax_error(gql: GraphQLClient) -> None:
    body = await gql("{ organization { ", as_user="owner@acme.test")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_unexpected_errors_are_masked(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: Loaders) -> Any:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(Loaders, "catalog", broken)
    body = await gql("{ catalog { currency } }", as_user="owner@acme.test")
    assert error_codes(body) == ["INTERNAL"]
    assert body["errors"][0]["message"] == "Internal error: it has been logged."
    assert "hunter2" not in str(body)
    assert "hunter2" in caplog.text  # the operator still sees it


async def test_queries_over_get(client: httpx.AsyncClient) -> None:
    token = await token_for("member@acme.test")
    response = await client.get(
        "/graphql",
        params={"query": "{ organization { name } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json() == {"data": {"organization": {"name": "Acme"}}}


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
