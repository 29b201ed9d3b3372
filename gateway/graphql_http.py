"""GraphQL over HTTP (graphql-over-http spec): the response media type a client accepts, and the
status of a request error when it accepts `application/graphql-response+json`.

With `application/json` (the default) every GraphQL result is a 200, as before. With
`application/graphql-response+json` a request that never ran (it did not parse, validate or
coerce its variables, or was refused before running) is a 400 without a `data` entry.
"""

from __future__ import annotations

from typing import cast

from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` when the client prefers it (or likes it as well as
    `application/json`); `application/json` otherwise, and when there is no Accept header."""
    best: dict[str, float] = {}
    for item in (accept or "").split(","):
        media_type, *parameters = item.split(";")
        media_type = media_type.strip().lower()
        if media_type in (GRAPHQL_RESPONSE_JSON, JSON):
            best[media_type] = max(best.get(media_type, 0.0), _quality(parameters))
    preferred = best.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return GRAPHQL_RESPONSE_JSON if preferred > 0 and preferred >= best.get(JSON, 0.0) else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing ran: no data, and no error points at a field (field errors always have a path)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


def without_data_on_request_error(
    processed: GraphQLHTTPResponse, result: ExecutionResult
) -> GraphQLHTTPResponse:
    if not is_request_error(result):
        return processed
    return cast("GraphQLHTTPResponse", {k: v for k, v in processed.items() if k != "data"})


def negotiated(
    response: Response,
    response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
    media_type: str | None,
) -> Response:
    """The response in the media type the client accepts; with graphql-response+json, a result
    without `data` (a request error) is a 400, as the spec requires 4xx or 5xx there."""
    if media_type != GRAPHQL_RESPONSE_JSON:
        return response
    response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    no_data = isinstance(response_data, dict) and "data" not in response_data
    if no_data and response.status_code < 400:
        response.status_code = 400
    return response
