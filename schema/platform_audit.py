"""ACC-6: the SaaS's backend reads every organization's audit log with a platform key of scope
audit:read, newest first, optionally one organization's by its external id. Read only."""

from __future__ import annotations

import strawberry

from models import AuditEntry as AuditEntryRow
from resolvers import audit
from resolvers.platform import require_platform_caller
from resolvers.provisioning import organization_by_external_id
from schema.audit import AuditEntry, entry_cursor, entry_id
from schema.context import Info
from schema.invoice import PageInfo

SCOPE = "audit:read"


@strawberry.type(description="The organization an audit entry belongs to.")
class AuditedOrganization:
    id: strawberry.ID
    slug: str
    external_id: str | None = strawberry.field(description="The SaaS's own id, if provisioned.")


@strawberry.type
class PlatformAuditEntryEdge:
    cursor: str
    organization: AuditedOrganization
    node: AuditEntry

    @classmethod
    def of(cls, row: AuditEntryRow) -> PlatformAuditEntryEdge:
        owner = row.organization
        return cls(
            cursor=entry_cursor(row.id),
            organization=AuditedOrganization(
                id=strawberry.ID(str(owner.id)), slug=owner.slug, external_id=owner.external_id
            ),
            node=AuditEntry.of(row),
        )


@strawberry.type(description="Every organization's entries (or one's), newest first.")
class PlatformAuditLogConnection:
    edges: list[PlatformAuditEntryEdge]
    page_info: PageInfo


@strawberry.type
class PlatformAuditQuery:
    @strawberry.field(
        description="ACC-6: the audit log of every organization, or of the one with "
        "`organizationExternalId`, newest first; a platform key with audit:read."
    )
    async def platform_audit_log(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        organization_external_id: str | None = None,
    ) -> PlatformAuditLogConnection | None:
        require_platform_caller(info.context.viewer, info.context.api_key, SCOPE)
        before_id = entry_id(after) if after else None
        organization_id = (
            (await organization_by_external_id(organization_external_id)).id
            if organization_external_id is not None
            else None
        )
        rows, more = await audit.platform_audit_page(organization_id, first, before_id)
        edges = [PlatformAuditEntryEdge.of(row) for row in rows]
        end = edges[-1].cursor if edges else None
        return PlatformAuditLogConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end)
        )
