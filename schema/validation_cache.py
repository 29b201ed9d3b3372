"""Strawberry's ValidationCache, keyed by the parsed document's identity instead of its hash.

ParserCache hands out the same DocumentNode for the same query text, and Strawberry's cache is
an lru_cache over (schema, document, rules): hashing a document walks every node of it in
Python, on every request (about as costly as a dozen of the billing page's fields). Keyed by
`id(document)`, with the document kept alongside so that an id reused by a new document is
never taken for the old one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAXSIZE = 256

_Key = tuple[int, int, tuple[Any, ...]]
_kept: dict[_Key, tuple[DocumentNode, list[GraphQLError]]] = {}


class DocumentValidationCache(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document, rules = (
            context.schema._schema,
            context.graphql_document,
            context.validation_rules,
        )
        assert document is not None
        key = (id(schema), id(document), rules)
        kept = _kept.get(key)
        if kept is not None and kept[0] is document:
            errors = kept[1]
        else:
            errors = validate_document(schema, document, rules)
            if len(_kept) >= MAXSIZE:
                del _kept[next(iter(_kept))]  # the oldest
            _kept[key] = (document, errors)
        context.pre_execution_errors = errors
        yield
