"""Parsing and validation kept per document text (issue 16).

The apps' and partners' documents repeat, so each is parsed and validated once: the parsed
document by the text (as Strawberry's ParserCache), and the validation's errors by the text, the
schema and the rules. Strawberry's ValidationCache keys its LRU by the parsed document; graphql-
core's AST nodes are frozen dataclasses, so every request hashed the whole tree again (~1 % of a
billing page's CPU), where the text hashes in C, once per string.

GatewaySchema (schema/__init__.py) sets both on the request's execution context before
Strawberry's own steps, which then parse and validate only what is left unset. As schema
extensions they wrapped every request's parsing, validation and execution in hooks (60 to 90 µs
of a billing page's CPU, bench/README.md)."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

from graphql import GraphQLError, GraphQLSchema, parse
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

MAXSIZE = 256

_Key = tuple[GraphQLSchema, str, tuple[type, ...]]
_KEPT: OrderedDict[_Key, list[GraphQLError]] = OrderedDict()
_parsed = lru_cache(maxsize=MAXSIZE)(parse)


def keep_parsing_and_validation(context: ExecutionContext) -> None:
    """The context's document and validation errors, parsed and validated once per text; a text
    that does not parse is left to Strawberry, which parses it again and answers the error."""
    query = context.query
    if query is None or context.graphql_document is not None:
        return
    try:
        document = _parsed(query, **context.parse_options)
    except GraphQLError:
        return
    context.graphql_document = document
    if context.pre_execution_errors is not None or not context.validation_rules:
        return
    rules = tuple(context.validation_rules)
    schema = context.schema._schema
    key = (schema, query, rules)
    errors = _KEPT.get(key)
    if errors is None:
        errors = validate_document(schema, document, rules)
        _KEPT[key] = errors
        if len(_KEPT) > MAXSIZE:
            _KEPT.popitem(last=False)
    else:
        _KEPT.move_to_end(key)
    context.pre_execution_errors = errors
