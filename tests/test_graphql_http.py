"""GraphQL over HTTP (graphql-over-http spec): the media type follows the Accept header, and with
`application/graphql-response+json` a request error is a 400 without `data`; with
`application/json` every GraphQL result stays a 200 (the audit in .ci/run checks all of it)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cross_web import HTTPException
from starlette.requests import Request
from strawberry.http.async_base_view import AsyncBaseHTTPView

from gateway.app import GraphQLEndpoint
from gateway.fixed_clock_setting import gateway_clock
from gateway.graphql_http import response_media_type
from gateway.processor import build_processor
from gateway.settings import Settings
from tests.conftest import error_codes, persisted, token_for

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def _post(
    client: httpx.AsyncClient, body: dict[str, Any], accept: str | None, *, as_user: str = ""
) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    if as_user:
        headers["authorization"] = f"Bearer {await token_for(as_user)}"
    return await client.post("/graphql", json=body, headers=headers)


async def test_graphql_response_json_when_the_client_accepts_it(
    client: httpx.AsyncClient,
) -> None:
    response = await _post(client, {"query": "{ __typename }"}, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
async def test_application_json_otherwise(client: httpx.AsyncClient, accept: str | None) -> None:
    response = await _post(client, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"__typename": "Query"}}


REQUEST_ERRORS: dict[str, tuple[dict[str, Any], str]] = {
    "parse": ({"query": "{"}, "Syntax Error"),
    "validation": ({"query": "{ nothingHere }"}, "Cannot query field 'nothingHere'"),
    "unused-variable": (
        {"query": "query Q($id: ID!) { __typename }", "variables": {"id": "1"}},
        "Variable '$id' is never used",
    ),
    "variable-coercion": (
        {
            "query": "query ($code: String!) { catalog { product(code: $code) { name } } }",
            "variables": {"code": 42},
        },
        "Variable '$code' has invalid value",
    ),
    "persisted-not-found": (
        {"extensions": persisted("0" * 64)},
        "PersistedQueryNotFound",
    ),
}


@pytest.mark.parametrize("case", REQUEST_ERRORS, ids=list(REQUEST_ERRORS))
async def test_a_request_error_is_a_400_without_data_with_graphql_response_json(
    client: httpx.AsyncClient, case: str
) -> None:
    body, message = REQUEST_ERRORS[case]
    response = await _post(client, body, GRAPHQL_RESPONSE, as_user="owner@acme.test")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["message"].startswith(message)
    assert error_codes(payload)[0] in ("BAD_USER_INPUT", "PERSISTED_QUERY_NOT_FOUND")


@pytest.mark.parametrize("case", REQUEST_ERRORS, ids=list(REQUEST_ERRORS))
async def test_a_request_error_stays_a_200_with_application_json(
    client: httpx.AsyncClient, case: str
) -> None:
    body, message = REQUEST_ERRORS[case]
    response = await _post(client, body, "application/json", as_user="owner@acme.test")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["message"].startswith(message)


async def test_a_field_error_is_a_200_with_data_in_either_media_type(
    client: httpx.AsyncClient,
) -> None:
    # The operation ran: `data` is there (null up to the failing field), so the status is 200.
    response = await _post(client, {"query": "{ organization { name } }"}, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json()["data"] == {"organization": None}
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_a_mutation_over_get_is_refused_with_405(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { cancelSubscription(product: "x") { __typename } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert (
        response.json()["errors"][0]["message"]
        == "Mutations are not run over GET: send them with POST."
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/html", "application/json"),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json;q=0.5", "application/json"),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0", "application/json"),
        ("application/graphql-response+json;q=abc", "application/json"),
    ],
)
def test_media_type_negotiation(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected


BODIES: list[bytes] = [
    b'{"query": "{ __typename }"}',
    b'{"query": "query Q($n: Int) { __typename }", "variables": {"n": 1}, "operationName": "Q"}',
    b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}',
    b'{"query": null, "variables": null, "extensions": null, "operationName": 7}',
    b'{"query": 5}',
    b'{"query": "{ __typename }", "variables": []}',
    b'{"query": "{ __typename }", "extensions": "x"}',
    b'[{"query": "{ __typename }"}]',
    b"[]",
    b'"a string"',
    b"{not json",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/json;charset=UTF-8",
    "text/plain",
    None,
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("body", BODIES)
async def test_a_post_body_is_read_as_strawberry_reads_it(
    settings: Settings, body: bytes, content_type: str | None
) -> None:
    """gateway/app.py reads the common JSON POST itself: the same request data as Strawberry's
    own parse, or the same refusal, for every shape and spelling."""
    endpoint = GraphQLEndpoint(settings, gateway_clock(None), build_processor(settings))

    def adapter() -> Any:
        headers = [(b"content-type", content_type.encode())] if content_type else []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
        return endpoint.request_adapter_class(Request(scope, receive))

    async def outcome(parse: Any) -> object:
        try:
            return await parse(endpoint, adapter())
        except HTTPException as refused:
            return (refused.status_code, refused.reason)

    ours = await outcome(GraphQLEndpoint.parse_http_body)
    strawberry_s = await outcome(AsyncBaseHTTPView.parse_http_body)
    assert ours == strawberry_s
