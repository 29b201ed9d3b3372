"""The GraphQL schema: one module per domain, joined here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema.mutation import Mutation
from schema.query import Query
from schema.webhooks import WebhookMutation, WebhookQuery


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors (permissions, bad input) are answers, not incidents; schema.errors logs
        # the unexpected ones once, with their traceback, when the response is made.
        return None


schema = GatewaySchema(
    query=merge_types("Query", (Query, WebhookQuery)),
    mutation=merge_types("Mutation", (Mutation, WebhookMutation)),
    # Classes or factories, never instances: an instance would share state between requests.
    extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)

__all__ = ["schema"]
