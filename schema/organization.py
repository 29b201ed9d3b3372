"""Organizations, their members and workspaces, and the signed-in viewer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from operator import attrgetter
from typing import TypeVar
from uuid import UUID

import strawberry

from billing.access import Role
from billing.errors import BillingError, NotFoundError
from billing.invoices import InvoiceStatus
from billing.notifications import NotificationKind
from models import Membership as MembershipRow
from models import Organization as OrganizationRow
from models import User as UserRow
from resolvers import organization_reads
from resolvers.credit_notes import credit_note_page
from resolvers.invoices import invoice_page
from resolvers.lifecycle import account_change_requests
from resolvers.loaders import UNKNOWN, known
from schema.answered import Answered
from schema.audit import AuditLogConnection, audit_log
from schema.billing_info import BillingInfo
from schema.common import Money
from schema.context import Info
from schema.credit_note import (
    CreditNote,
    CreditNoteConnection,
    CreditNoteEdge,
    decode_credit_note_cursor,
    encode_credit_note_cursor,
)
from schema.entitlements import Entitlements, entitlements_of
from schema.invoice import (
    Invoice,
    InvoiceConnection,
    InvoiceEdge,
    PageInfo,
    decode_cursor,
    encode_cursor,
)
from schema.invoice_answers import first_page_answered
from schema.payment_method import PaymentMethod
from schema.permissions import CanReadAuditLog, CanReadBilling, CanReadNotifications
from schema.plan_change import AccountChangeRequest
from schema.subscription import Subscription
from schema.usage import UsageMeter, meters
from schema.usage_history import UsageMonth, WorkspaceUsage, usage_by_workspace, usage_months


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    name: str

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(id=strawberry.ID(str(row.id)), email=row.email, name=row.name)


@strawberry.type
class Member:
    user: User
    role: Role

    @classmethod
    def of(cls, row: MembershipRow) -> Member:
        return cls(user=User.of(row.user), role=row.role)


@strawberry.type
class Workspace:
    id: strawberry.ID
    slug: str
    name: str
    archived_at: datetime | None = strawberry.field(
        description="When it was archived (PRV-1): it keeps its usage history but takes no usage."
    )


_T = TypeVar("_T")


def _credit_balance(row: OrganizationRow) -> Money | None:
    return Money.of(row.credit_balance, row.currency)


_NAME: Callable[[OrganizationRow], str] = attrgetter("name")


@strawberry.type
class Organization:
    """Its row is read only by the fields that need it (one query, shared through the loader):
    a request for the caller's entitlements needs none."""

    id: strawberry.ID
    organization_id: strawberry.Private[UUID]
    row: strawberry.Private[OrganizationRow | None] = None

    @classmethod
    def of(cls, row: OrganizationRow) -> Organization:
        return cls(id=strawberry.ID(str(row.id)), organization_id=row.id, row=row)

    @classmethod
    def of_member(cls, organization_id: UUID) -> Organization:
        """An organization the caller is a member of (so it exists), not read yet."""
        return cls(id=strawberry.ID(str(organization_id)), organization_id=organization_id)

    async def _row(self, info: Info) -> OrganizationRow:
        if self.row is None:
            self.row = await info.context.loaders.organization.load(self.organization_id)
            if self.row is None:  # deleted since the caller's roles were read
                raise NotFoundError(f"No organization with id {self.id!r} is visible to you.")
        return self.row

    def _of_row(self, info: Info, read: Callable[[OrganizationRow], _T]) -> _T | Awaitable[_T]:
        """`read` of the row: at once when it is here (the billing page's one statement read
        it), with no coroutine for graphql-core to await; else once the loader has read it."""
        if self.row is not None:
            return read(self.row)
        return self._of_row_read(info, read)

    async def _of_row_read(self, info: Info, read: Callable[[OrganizationRow], _T]) -> _T:
        return read(await self._row(info))

    @strawberry.field
    async def slug(self, info: Info) -> str:
        return (await self._row(info)).slug

    @strawberry.field(graphql_type=str)
    def name(self, info: Info) -> str | Awaitable[str]:
        return self._of_row(info, _NAME)

    @strawberry.field(
        description="CUR-1: what it is billed in (ISO 4217); fixed at its first subscription."
    )
    async def currency(self, info: Info) -> str:
        return (await self._row(info)).currency

    @strawberry.field(description="The caller's own role here.")
    def viewer_role(self, info: Info) -> Role | None:
        return info.context.role_in(self.organization_id)

    @strawberry.field
    async def members(self, info: Info) -> list[Member]:
        rows = await info.context.loaders.members_by_organization.load(self.organization_id)
        return [Member.of(row) for row in rows]

    @strawberry.field(description="The workspaces in use; archived ones too with includeArchived.")
    async def workspaces(self, info: Info, include_archived: bool = False) -> list[Workspace]:
        rows = await info.context.loaders.workspaces_by_organization.load(self.organization_id)
        return [
            Workspace(
                id=strawberry.ID(str(w.id)), slug=w.slug, name=w.name, archived_at=w.archived_at
            )
            for w in rows
            if include_archived or w.archived_at is None
        ]

    @strawberry.field(graphql_type=Subscription | None)
    def subscription(self, info: Info) -> Subscription | Awaitable[Subscription | None] | None:
        loader = info.context.loaders.subscription_by_organization
        row = known(loader, self.organization_id)
        if row is UNKNOWN:  # not read yet: the loader reads it
            return self._subscription_read(info)
        return Subscription.of(row) if row else None

    async def _subscription_read(self, info: Info) -> Subscription | None:
        row = await info.context.loaders.subscription_by_organization.load(self.organization_id)
        return Subscription.of(row) if row else None

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="Credit that pays the next invoices before any card is charged (INT-3).",
        graphql_type=Money | None,
    )
    def credit_balance(self, info: Info) -> Money | Awaitable[Money | None] | None:
        return self._of_row(info, _credit_balance)

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="ACC-3: billing roles only.",
        graphql_type=InvoiceConnection | None,
    )
    async def invoices(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        status: InvoiceStatus | None = None,
    ) -> InvoiceConnection | Answered | None:
        after_sequence = decode_cursor(after) if after else None
        if after and after_sequence is None:
            raise BillingError(
                f"Unknown cursor {after!r}: use a pageInfo.endCursor.", field="after"
            )
        if after is None:
            answered = await first_page_answered(info, self.organization_id, first, status)
            if answered is not None:
                return answered
        rows, more, total = await invoice_page(self.organization_id, first, after_sequence, status)
        edges = [InvoiceEdge(cursor=encode_cursor(r.sequence), node=Invoice.of(r)) for r in rows]
        return InvoiceConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="CRN-1: credit notes, newest first, paginated like invoices (billing roles "
        "only).",
    )
    async def credit_notes(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> CreditNoteConnection | None:
        after_sequence = decode_credit_note_cursor(after) if after else None
        if after and after_sequence is None:
            raise BillingError(
                f"Unknown cursor {after!r}: use a pageInfo.endCursor.", field="after"
            )
        rows, more, total = await credit_note_page(self.organization_id, first, after_sequence)
        edges = [
            CreditNoteEdge(cursor=encode_credit_note_cursor(r.sequence), node=CreditNote.of(r))
            for r in rows
        ]
        return CreditNoteConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )

    @strawberry.field(
        description="USE-3: meters of this billing month, an earlier month, or one workspace."
    )
    async def usage(
        self, info: Info, month: str | None = None, workspace: str | None = None
    ) -> list[UsageMeter]:
        return await meters(info, self.organization_id, month, workspace)

    @strawberry.field(
        description="USE-3: this billing month's counts (or an earlier month's) per workspace."
    )
    async def usage_by_workspace(
        self, info: Info, month: str | None = None
    ) -> list[WorkspaceUsage]:
        snapshot = await info.context.loaders.catalog()
        return await usage_by_workspace(self.organization_id, snapshot, month)

    @strawberry.field(
        description=(
            "USE-3: the open billing month and the earlier ones with usage, newest first, at "
            "most `months` (1 to 24) of them."
        )
    )
    async def usage_history(self, info: Info, months: int = 12) -> list[UsageMonth]:
        snapshot = await info.context.loaders.catalog()
        return await usage_months(self.organization_id, snapshot, months)

    @strawberry.field(
        permission_classes=[CanReadBilling], description="One invoice with its lines."
    )
    async def invoice(self, id: strawberry.ID) -> Invoice | None:
        row = await organization_reads.invoice_of(self.organization_id, str(id))
        return Invoice.of(row) if row else None  # another tenant's invoice is not there (ACC-5)

    @strawberry.field(permission_classes=[CanReadBilling], description="INV-3; billing roles only.")
    async def billing_info(self) -> BillingInfo | None:
        row = await organization_reads.billing_info_of(self.organization_id)
        return BillingInfo.of(row) if row else None

    @strawberry.field(permission_classes=[CanReadBilling], description="ACC-3: billing roles only.")
    async def payment_methods(self) -> list[PaymentMethod] | None:
        rows = await organization_reads.payment_methods_of(self.organization_id)
        return [PaymentMethod.of(row) for row in rows]

    @strawberry.field(
        permission_classes=[CanReadNotifications],
        description="NOT-1: notices for the owner and billing admins, newest first.",
    )
    async def notifications(self, first: int = 20) -> list[Notification] | None:
        rows = await organization_reads.notifications_of(self.organization_id, first)
        return [
            Notification(kind=NotificationKind(r.kind), message=r.message, created_at=r.created_at)
            for r in rows
        ]

    @strawberry.field(
        permission_classes=[CanReadBilling],
        description="CHG-8: downgrade requests filed for staff, newest first, with their status.",
    )
    async def account_change_requests(self, first: int = 20) -> list[AccountChangeRequest] | None:
        rows = await account_change_requests(self.organization_id, max(1, min(first, 100)))
        return [AccountChangeRequest.of(row) for row in rows]

    @strawberry.field(
        description="Settings of features; inactive ones belong to features the plan lost (CHG-9)."
    )
    async def feature_settings(self) -> list[FeatureSetting]:
        rows = await organization_reads.feature_settings_of(self.organization_id)
        return [
            FeatureSetting(feature=r.feature, key=r.key, value=str(r.value), active=r.active)
            for r in rows
        ]

    @strawberry.field(
        description="EVT-2: every feature of the current plans and every metered limit; no "
        "amounts, so any member may read it (ACC-3)."
    )
    async def entitlements(self, info: Info) -> Entitlements:
        return await entitlements_of(info, self.organization_id)

    @strawberry.field(
        permission_classes=[CanReadAuditLog],
        description="Billing and staff actions, newest first; owners and billing admins only.",
    )
    async def audit_log(
        self, first: int = 20, after: str | None = None
    ) -> AuditLogConnection | None:
        return await audit_log(self.organization_id, first, after)


strawberry.enum(
    NotificationKind, description="What a notice is about (NOT-1); clients branch on it."
)


@strawberry.type
class Notification:
    kind: NotificationKind
    message: str
    created_at: datetime


@strawberry.type
class FeatureSetting:
    feature: str
    key: str
    value: str
    active: bool


@strawberry.type
class Membership:
    role: Role
    organization: Organization


@strawberry.type
class Viewer:
    user: User
    user_id: strawberry.Private[UUID]

    @strawberry.field(
        description="The organizations the viewer belongs to, with their role in each."
    )
    async def memberships(self, info: Info) -> list[Membership]:
        viewer = info.context.viewer
        if viewer is None:
            return []
        rows = await info.context.loaders.organization.load_many(list(viewer.roles))
        return [
            Membership(role=viewer.roles[row.id], organization=Organization.of(row))
            for row in rows
            if row is not None
        ]
