"""The provisioning API (PRV-1): what the SaaS's backend runs with a platform key (ACC-6).
Each field checks the key's scope, calls its use case and answers the organization."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from billing.access import Role
from billing.errors import BillingError
from billing.provisioning import DEFAULT_TRIAL_DAYS
from billing.subscription_status import SubscriptionStatus
from resolvers import memberships, organization_list, provisioning
from resolvers.platform import require_platform_caller
from resolvers.trial_items import TrialPlan
from schema.billing_info import BillingInfoInput
from schema.context import Info
from schema.provisioning_types import (
    OrganizationConnection,
    OrganizationPageInfo,
    OrganizationProvisioned,
    ProvisionedOrganization,
    ProvisioningResult,
)
from schema.user_errors import user_error

WRITE = "organizations:write"
READ = "organizations:read"


@strawberry.input
class PersonInput:
    email: str
    name: str
    external_id: str | None = strawberry.field(
        default=None, description="The SaaS's own id for this person."
    )

    def to_person(self) -> provisioning.Person:
        return provisioning.Person(self.email, self.name, self.external_id)


@strawberry.input
class CreateOrganizationInput:
    external_id: str = strawberry.field(description="The SaaS's id: a resend answers the first.")
    name: str
    slug: str
    owner: PersonInput
    billing_info: BillingInfoInput
    currency: str | None = strawberry.field(
        default=None, description="CUR-1: one the catalog prices; by default the catalog's."
    )


@strawberry.input
class StartTrialInput:
    product: str
    plan: str
    bundle: str | None = None
    trial_days: int = DEFAULT_TRIAL_DAYS


@strawberry.input
class OrganizationFilterInput:
    status: SubscriptionStatus | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="True: only those with an overdue invoice; false: none."
    )


async def _provision(
    info: Info, work: Callable[[], Awaitable[provisioning.Provisioned]]
) -> ProvisioningResult:
    require_platform_caller(info.context.viewer, info.context.api_key, WRITE)
    try:
        done = await work()
    except BillingError as error:
        return user_error(error)
    [summary] = await organization_list.summarize([done.organization], info.context.clock.now())
    return OrganizationProvisioned(
        organization=ProvisionedOrganization.of(summary), changed=done.changed
    )


@strawberry.type
class ProvisioningMutation:
    @strawberry.mutation(description="PRV-1: an organization with its owner; idempotent.")
    async def create_organization(
        self, info: Info, input: CreateOrganizationInput
    ) -> ProvisioningResult:
        new = provisioning.NewOrganization(
            input.external_id,
            input.name,
            input.slug,
            input.owner.to_person(),
            input.billing_info.to_change(),
            input.currency,
        )
        return await _provision(info, lambda: provisioning.create_organization(new))

    @strawberry.mutation(
        description="CUR-1: the currency it is billed in; refused (CURRENCY_FIXED) once it has "
        "subscribed, and (CURRENCY_UNSUPPORTED) for a currency the catalog has no prices in."
    )
    async def set_provisioned_organization_currency(
        self, info: Info, organization_external_id: str, currency: str
    ) -> ProvisioningResult:
        return await _provision(
            info, lambda: provisioning.set_organization_currency(organization_external_id, currency)
        )

    @strawberry.mutation(description="PRV-1: a member with a role other than OWNER (ACC-1).")
    async def add_member(
        self, info: Info, organization_external_id: str, person: PersonInput, role: Role
    ) -> ProvisioningResult:
        return await _provision(
            info,
            lambda: memberships.add_member(organization_external_id, person.to_person(), role),
        )

    @strawberry.mutation(description="ACC-1: never to or from OWNER; see transferOwnership.")
    async def change_member_role(
        self, info: Info, organization_external_id: str, email: str, role: Role
    ) -> ProvisioningResult:
        return await _provision(
            info, lambda: memberships.change_member_role(organization_external_id, email, role)
        )

    @strawberry.mutation(description="ACC-1: a member becomes the one owner.")
    async def transfer_ownership(
        self,
        info: Info,
        organization_external_id: str,
        email: str,
        previous_owner_role: Role = Role.ADMIN,
    ) -> ProvisioningResult:
        return await _provision(
            info,
            lambda: memberships.transfer_ownership(
                organization_external_id, email, previous_owner_role
            ),
        )

    @strawberry.mutation(description="Never the owner (ACC-1).")
    async def remove_member(
        self, info: Info, organization_external_id: str, email: str
    ) -> ProvisioningResult:
        return await _provision(
            info, lambda: memberships.remove_member(organization_external_id, email)
        )

    @strawberry.mutation(description="Idempotent by the workspace's slug.")
    async def create_workspace(
        self, info: Info, organization_external_id: str, slug: str, name: str
    ) -> ProvisioningResult:
        return await _provision(
            info, lambda: memberships.create_workspace(organization_external_id, slug, name)
        )

    @strawberry.mutation(description="Kept with its history; it takes no more usage.")
    async def archive_workspace(
        self, info: Info, organization_external_id: str, slug: str
    ) -> ProvisioningResult:
        now = info.context.clock.now()
        return await _provision(
            info, lambda: memberships.archive_workspace(organization_external_id, slug, now)
        )

    @strawberry.mutation(description="SUB-2: a trial charges nothing, so it needs no card.")
    async def start_trial(
        self, info: Info, organization_external_id: str, input: StartTrialInput
    ) -> ProvisioningResult:
        plan = TrialPlan(input.product, input.plan, input.bundle)
        now = info.context.clock.now()
        return await _provision(
            info,
            lambda: provisioning.start_trial(organization_external_id, plan, input.trial_days, now),
        )


@strawberry.type
class ProvisioningQuery:
    @strawberry.field(
        description="PRV-1: every organization, by slug; a platform key with organizations:read."
    )
    async def organizations(
        self,
        info: Info,
        filter: OrganizationFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> OrganizationConnection | None:
        require_platform_caller(info.context.viewer, info.context.api_key, READ)
        wanted = organization_list.OrganizationFilter(
            filter.status if filter else None, filter.overdue if filter else None
        )
        page = await organization_list.list_organizations(
            wanted, first, after, info.context.clock.now()
        )
        return OrganizationConnection(
            nodes=[ProvisionedOrganization.of(s) for s in page.summaries],
            page_info=OrganizationPageInfo(
                end_cursor=page.end_cursor, has_next_page=page.has_next_page
            ),
        )
