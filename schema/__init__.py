"""The GraphQL schema: one module per domain, joined here."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.errors import ErrorCodes
from schema.query import Query

schema = strawberry.Schema(
    query=Query,
    # Classes or factories, never instances: an instance would share state between requests.
    extensions=[ErrorCodes, lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)

__all__ = ["schema"]
