"""The root Query."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import plan_change
from resolvers.organization import (
    find_organization,
    find_organization_and_subscription,
    member_organization_id,
    read_organization_and_subscription,
)
from schema.catalog import Catalog, build_catalog
from schema.context import Info
from schema.organization import Organization, User, Viewer
from schema.permissions import CanManageBilling, CanReadCatalog, IsAuthenticated
from schema.plan_change import PROMOTION_CODE, PlanChangeInput, PlanChangePreview
from schema.selected import selects
from schema.usage import UsageGate, usage_gate


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def viewer(self, info: Info) -> Viewer:
        viewer = info.context.viewer
        assert viewer is not None  # IsAuthenticated
        user = User(id=strawberry.ID(str(viewer.user_id)), email=viewer.email, name=viewer.name)
        return Viewer(user=user, user_id=viewer.user_id)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="An organization the viewer belongs to; without an id, the viewer's first one.",
    )
    async def organization(
        self, info: Info, id: strawberry.ID | None = None
    ) -> Organization | None:
        viewer = info.context.viewer
        assert viewer is not None  # IsAuthenticated
        organization_id = member_organization_id(viewer, id)
        if selects(info, "subscription"):  # the billing page: one statement for the four
            read = await read_organization_and_subscription(info.context.loaders, organization_id)
            if read is not None:
                return Organization.of(read.organization)
        return Organization.of_member(organization_id)

    @strawberry.field(
        permission_classes=[CanReadCatalog],
        description="Products, plans and list prices: public unless GATEWAY_PUBLIC_CATALOG=false.",
    )
    async def catalog(
        self,
        info: Info,
        currency: Annotated[
            str | None,
            strawberry.argument(
                description="CUR-1: one of the catalog's currencies; its default when null."
            ),
        ] = None,
    ) -> Catalog:
        return build_catalog(await info.context.loaders.catalog(), currency)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="USE-5: may `quantity` more of a metric be used now, and if not, why.",
    )
    async def usage_gate(
        self, info: Info, product: str, metric: str, quantity: int = 1
    ) -> UsageGate:
        context = info.context
        row = await find_organization(context.require_viewer(), context.loaders, None)
        return await usage_gate(row, await context.loaders.catalog(), product, metric, quantity)

    @strawberry.field(
        permission_classes=[IsAuthenticated, CanManageBilling],
        description="What a change would cost and do, changing nothing (CHG-1).",
    )
    async def preview_plan_change(
        self,
        info: Info,
        input: PlanChangeInput,
        promotion_code: Annotated[str | None, PROMOTION_CODE] = None,
    ) -> PlanChangePreview | None:
        context = info.context
        read = await find_organization_and_subscription(
            context.require_viewer(), context.loaders, None
        )
        snapshot = await context.loaders.catalog()
        now = context.clock.now()
        q = await plan_change.preview(
            read.organization, snapshot, input.to_request(), now, promotion_code, read=read
        )
        return PlanChangePreview.of(q)
