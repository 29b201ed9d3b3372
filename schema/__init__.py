"""The GraphQL schema: one module per domain, joined here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache
from strawberry.tools import merge_types

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
from schema.validation_cache import TextValidationCache
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
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors (permissions, bad input) are answers, not incidents; schema.errors logs
        # the unexpected ones once, with their traceback, when the response is made.
        return None


schema = GatewaySchema(
    query=Query,
    mutation=Mutation,
    # Classes or factories, never instances: an instance would share state between requests.
    extensions=[
        lambda: ParserCache(maxsize=256),
        lambda: TextValidationCache(maxsize=256),
    ],
    execution_context_class=PlainFieldsExecution,
)
STRAWBERRY_RESOLVERS = lean_resolvers(schema)  # before guard_arguments wraps them
document_limits(schema._schema)
guard_arguments(schema._schema)
PlainFieldsExecution.tabulate(schema._schema)

__all__ = ["schema"]
