"""What the provisioning API answers (PRV-1): organizations as the SaaS's backend sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from billing.access import Role
from billing.subscription_status import SubscriptionStatus
from resolvers.organization_list import HeldPlan, OrganizationSummary
from schema.common import Money
from schema.context import Info
from schema.plan_change import UserError


@strawberry.type
class ProvisionedMember:
    email: str
    name: str
    external_id: str | None
    role: Role


@strawberry.type
class ProvisionedWorkspace:
    slug: str
    name: str
    archived_at: datetime | None


@strawberry.type
class HeldPlanInfo:
    product: str
    plan: str
    plan_name: str

    @classmethod
    def of(cls, held: HeldPlan) -> HeldPlanInfo:
        return cls(product=held.product, plan=held.plan, plan_name=held.plan_name)


@strawberry.type(description="An organization as a platform key sees it (PRV-1).")
class ProvisionedOrganization:
    id: strawberry.ID
    external_id: str | None
    slug: str
    name: str
    currency: str
    status: SubscriptionStatus | None = strawberry.field(
        description="The subscription's status; null before a trial or subscription starts."
    )
    trial_ends_at: datetime | None
    plans: list[HeldPlanInfo]
    amount_due: Money = strawberry.field(description="Open invoices, overdue or not (INV-1).")
    overdue_amount: Money = strawberry.field(description="Open invoices past their due date.")
    organization_id: strawberry.Private[UUID]

    @classmethod
    def of(cls, summary: OrganizationSummary) -> ProvisionedOrganization:
        row = summary.organization
        return cls(
            id=strawberry.ID(str(row.id)),
            external_id=row.external_id,
            slug=row.slug,
            name=row.name,
            currency=row.currency,
            status=summary.status,
            trial_ends_at=summary.trial_ends_at,
            plans=[HeldPlanInfo.of(p) for p in summary.plans],
            amount_due=Money.of(summary.amount_due, row.currency),
            overdue_amount=Money.of(summary.overdue_amount, row.currency),
            organization_id=row.id,
        )

    @strawberry.field
    async def members(self, info: Info) -> list[ProvisionedMember]:
        rows = await info.context.loaders.members_by_organization.load(self.organization_id)
        return [
            ProvisionedMember(
                email=m.user.email, name=m.user.name, external_id=m.user.external_id, role=m.role
            )
            for m in rows
        ]

    @strawberry.field
    async def workspaces(self, info: Info) -> list[ProvisionedWorkspace]:
        rows = await info.context.loaders.workspaces_by_organization.load(self.organization_id)
        return [
            ProvisionedWorkspace(slug=w.slug, name=w.name, archived_at=w.archived_at) for w in rows
        ]


@strawberry.type
class OrganizationProvisioned:
    organization: ProvisionedOrganization
    changed: bool = strawberry.field(
        description="False when the call was a resend: it found its work done and changed nothing."
    )


ProvisioningResult = Annotated[
    OrganizationProvisioned | UserError, strawberry.union("ProvisioningResult")
]


@strawberry.type
class OrganizationPageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class OrganizationConnection:
    nodes: list[ProvisionedOrganization]
    page_info: OrganizationPageInfo
