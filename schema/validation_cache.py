"""Validation results kept per document text.

Strawberry's ValidationCache keys its LRU by the parsed document; graphql-core's AST nodes are
frozen dataclasses, so every request hashes the whole tree again (~1 % of a billing page's CPU).
The text the ParserCache parsed names the same document and hashes in C, once per string."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSchema
from strawberry.extensions import ValidationCache
from strawberry.schema.schema import validate_document

_Key = tuple[GraphQLSchema, str, tuple[type, ...]]


class TextValidationCache(ValidationCache):
    """`ValidationCache(maxsize)`, keyed by the query's text (the schema and rules too)."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is None or context.graphql_document is None:
            yield from super().on_validate()
            return
        rules = tuple(context.validation_rules)
        key = (context.schema._schema, context.query, rules)
        errors = _KEPT.get(key)
        if errors is None:
            errors = validate_document(context.schema._schema, context.graphql_document, rules)
            _KEPT[key] = errors
            if len(_KEPT) > self.maxsize:
                _KEPT.popitem(last=False)
        else:
            _KEPT.move_to_end(key)
        context.pre_execution_errors = errors
        yield


_KEPT: OrderedDict[_Key, list[GraphQLError]] = OrderedDict()
