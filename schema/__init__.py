"""The GraphQL schema: one module per domain, joined here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError

from schema.coupon_provisioning import CouponMutation
from schema.input_limits import document_limits, guard_arguments
from schema.mutation import Mutation as GatewayMutation
from schema.partner import PartnerQuery
from schema.plain_fields import PlainFieldsExecution
from schema.platform_audit import PlatformAuditQuery
from schema.portal_sessions import PortalSessionMutation
from schema.provisioning import ProvisioningMutation, ProvisioningQuery
from schema.query import Query as GatewayQuery
from schema.resolver_fields import lean_resolvers
from schema.staff import StaffMutation
from schema.validation_cache import keep_parsing_and_validation
from schema.webhooks import WebhookMutation, WebhookQuery

Query = merge_types(
    "Query", (GatewayQuery, ProvisioningQuery, PartnerQuery, PlatformAuditQuery, WebhookQuery)
)
Mutation = merge_types(
    "Mutation",
    (
        GatewayMutation,
        ProvisioningMutation,
        StaffMutation,
        WebhookMutation,
        PortalSessionMutation,
        CouponMutation,
    ),
)


class GatewaySchema(strawberry.Schema):
    async def _prepare_operation_async(
        self, context: ExecutionContext, extensions_runner: SchemaExtensionsRunner
    ) -> PreExecutionError | None:
        keep_parsing_and_validation(context)  # schema/validation_cache.py
        return await super()._prepare_operation_async(context, extensions_runner)

    def _prepare_operation_sync(
        self, context: ExecutionContext, extensions_runner: SchemaExtensionsRunner
    ) -> ExecutionResult | None:
        keep_parsing_and_validation(context)
        return super()._prepare_operation_sync(context, extensions_runner)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors (permissions, bad input) are answers, not incidents; schema.errors logs
        # the unexpected ones once, with their traceback, when the response is made.
        return None


schema = GatewaySchema(
    query=Query,
    mutation=Mutation,
    # No schema extensions: their hooks wrap every request's steps. Parsing and validation are
    # kept per document text by GatewaySchema (schema/validation_cache.py).
    execution_context_class=PlainFieldsExecution,
)
STRAWBERRY_RESOLVERS = lean_resolvers(schema)  # before guard_arguments wraps them
document_limits(schema._schema)
guard_arguments(schema._schema)
PlainFieldsExecution.tabulate(schema._schema)

__all__ = ["schema"]
