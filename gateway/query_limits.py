"""The limits on what one GraphQL request may cost (README "Limits"), checked before it is
validated or run: its tokens while it is parsed, then its aliases, depth and estimated cost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    GraphQLSyntaxError,
    OperationType,
    Source,
    SourceLocation,
    get_operation_ast,
    parse,
)
from starlette.responses import JSONResponse

from gateway.limit_settings import RequestLimits
from gateway.query_cost import cost_variables, estimated_cost
from gateway.query_shape import alias_count, depth

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
GRAPHQL_RESPONSE = "application/graphql-response+json"
_PARSED_DOCUMENTS = 256
_COSTS_PER_DOCUMENT = 32
T = TypeVar("T")


class QueryTooComplex(Exception):
    """A refusal naming the limit (its environment variable), the maximum and the value."""

    def __init__(self, message: str, limit: str, maximum: int | float, value: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {
            "code": QUERY_TOO_COMPLEX,
            "limit": limit,
            "maximum": maximum,
        }
        if value is not None:
            self.extensions["value"] = value


@dataclass(frozen=True)
class CheckedOperation:
    document: DocumentNode | None  # None: not parsable; the GraphQL layer reports the syntax
    cost: int

    def is_mutation(self, operation_name: str | None) -> bool:
        if self.document is None:
            return False
        operation = get_operation_ast(self.document, operation_name)
        return operation is not None and operation.operation is OperationType.MUTATION


def check_operation(
    limits: RequestLimits,
    query: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    *,
    anonymous: bool,
) -> CheckedOperation:
    """Raises QueryTooComplex at the first limit the document passes."""
    document = parse_within(query, limits)
    if document is None:
        return CheckedOperation(None, 0)
    max_tokens = limits.max_query_tokens
    try:
        aliases = _alias_count(query, max_tokens)
        if aliases > limits.max_aliases:
            raise _refusal("aliases", "GATEWAY_MAX_ALIASES", limits.max_aliases, aliases)
        deepest = _depth(query, max_tokens)
        if deepest > limits.max_depth:
            raise _refusal("nesting depth", "GATEWAY_MAX_DEPTH", limits.max_depth, deepest)
        cost = _cost(query, max_tokens, variables, operation_name)
    except RecursionError:
        raise QueryTooComplex(
            "The query nests fragments too deeply to be measured: flatten its fragments.",
            "GATEWAY_MAX_DEPTH",
            limits.max_depth,
            None,
        ) from None
    budget, variable = limits.max_cost, "GATEWAY_MAX_COST"
    if anonymous:
        budget, variable = limits.max_cost_anonymous, "GATEWAY_MAX_COST_ANONYMOUS"
    if cost > budget:
        who = "an anonymous caller" if anonymous else "one request"
        raise QueryTooComplex(
            f"The query's estimated cost is {cost:,}, above the {budget:,} allowed for {who} "
            f"({variable}): ask for fewer items (`first`), fewer quotes, usage gates or "
            "invoice lists per request.",
            variable,
            budget,
            cost,
        )
    return CheckedOperation(document, cost)


def parse_within(query: str, limits: RequestLimits) -> DocumentNode | None:
    """The document, parsed no further than GATEWAY_MAX_QUERY_TOKENS tokens; None when it has a
    syntax error (left for the GraphQL layer to report). Raises QueryTooComplex past the limit."""
    max_tokens = limits.max_query_tokens
    try:
        return _parse(query, max_tokens)
    except GraphQLSyntaxError as error:
        if "Parsing aborted" not in error.message:
            return None
        if "nested too deeply" in error.message:
            raise QueryTooComplex(
                "The query is nested too deeply to be parsed.",
                "GATEWAY_MAX_DEPTH",
                limits.max_depth,
                None,
            ) from None
        raise QueryTooComplex(
            f"The query has more than {max_tokens:,} tokens, the most one request may send "
            "(GATEWAY_MAX_QUERY_TOKENS): split it, or use fragments and variables.",
            "GATEWAY_MAX_QUERY_TOKENS",
            max_tokens,
            None,
        ) from None


@lru_cache(maxsize=_PARSED_DOCUMENTS)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    # Cached like the schema's ParserCache: the documents of the apps and partners repeat.
    return parse(_Document(query), max_tokens=max_tokens)


class _Measures:
    """What was measured of one document, each measure when first asked for (a refusal stops at
    the first limit passed, as without the cache): the apps' and partners' documents repeat, and
    walking one costs more than running a small one."""

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.aliases: int | None = None
        self.depth: int | None = None
        self.cost_variables: frozenset[str] | None = None
        # (operation, the values of the variables the cost reads, with their types: `true`
        # and `1` are equal in Python, not to the cost) -> cost
        self.costs: dict[tuple[Any, ...], int] = {}


@lru_cache(maxsize=_PARSED_DOCUMENTS)
def _measures(query: str, max_tokens: int) -> _Measures:
    # One entry per document, like _parse's: a document's text is kept once, whatever the
    # variables sent with it.
    return _Measures(_parse(query, max_tokens))


def _alias_count(query: str, max_tokens: int) -> int:
    measures = _measures(query, max_tokens)
    if measures.aliases is None:
        measures.aliases = alias_count(measures.document)
    return measures.aliases


def _depth(query: str, max_tokens: int) -> int:
    measures = _measures(query, max_tokens)
    if measures.depth is None:
        measures.depth = depth(measures.document)
    return measures.depth


def _cost(
    query: str, max_tokens: int, variables: Mapping[str, Any] | None, operation_name: str | None
) -> int:
    measures = _measures(query, max_tokens)
    if measures.cost_variables is None:
        measures.cost_variables = cost_variables(measures.document)
    sent = variables or {}
    read = tuple(
        (name, type(sent[name]), sent[name])
        for name in sorted(measures.cost_variables)
        if name in sent
    )
    key = (operation_name, read)
    try:
        known = measures.costs.get(key)
    except TypeError:  # a value that cannot be a key (a list, an object): not kept
        return estimated_cost(measures.document, variables, operation_name)
    if known is None:
        values = {name: value for name, _, value in read}
        known = estimated_cost(measures.document, values, operation_name)
        if len(measures.costs) >= _COSTS_PER_DOCUMENT:
            measures.costs.clear()
        measures.costs[key] = known
    return known


class _Document(Source):
    """graphql-core finds an error's line by scanning the whole body for line breaks: 20 ms for
    a one-line document of 1 MB refused at its 2,000th token. This reads only the text before."""

    def get_location(self, position: int) -> SourceLocation:
        before = self.body[:position]
        line = 1 + before.count("\n") + before.count("\r") - before.count("\r\n")
        line_start = max(before.rfind("\n"), before.rfind("\r")) + 1
        return SourceLocation(line, position + 1 - line_start)


def _refusal(what: str, variable: str, maximum: int, value: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"The query has {value:,} {what}, above the {maximum:,} allowed ({variable}).",
        variable,
        maximum,
        value,
    )


async def within_time_limit(run: Awaitable[T], seconds: float) -> T:
    """`run`, cancelled after `seconds` with a QueryTooComplex. Only for queries: a mutation that
    has moved money must never be cancelled half-way."""
    try:
        async with asyncio.timeout(seconds) as deadline:
            return await run
    except TimeoutError:
        if not deadline.expired():
            raise  # a timeout of something inside, not ours
        raise QueryTooComplex(
            f"The query ran longer than the {seconds:g} seconds allowed "
            "(GATEWAY_QUERY_TIMEOUT_SECONDS) and was stopped: ask for less in one request.",
            "GATEWAY_QUERY_TIMEOUT_SECONDS",
            seconds,
            None,
        ) from None


def refusal_response(refusal: QueryTooComplex, accept: str | None) -> JSONResponse:
    """A request error (GraphQL-over-HTTP): 400, errors and no data."""
    media_type = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in (accept or "") else "application/json"
    body = {"errors": [{"message": refusal.message, "extensions": refusal.extensions}]}
    return JSONResponse(body, status_code=400, media_type=media_type)
