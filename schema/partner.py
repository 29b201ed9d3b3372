"""What a partner (the SaaS backend) reads with an API key of scope entitlements:read, for the
key's organization: its entitlements (EVT-2) and its audit log. Trusted documents in operations/;
platform keys read every organization's log with audit:read (schema/platform_audit.py)."""

from __future__ import annotations

import strawberry

from schema.audit import AuditLogConnection, audit_log
from schema.context import Info
from schema.entitlements import Entitlements, entitlements_of
from schema.permissions import CanReadEntitlements, IsCaller

PARTNER = [IsCaller, CanReadEntitlements]


@strawberry.type
class PartnerQuery:
    @strawberry.field(
        permission_classes=PARTNER,
        description="EVT-2: the API key's organization's entitlements (scope entitlements:read).",
    )
    async def entitlements(self, info: Info) -> Entitlements | None:
        key = info.context.api_key
        assert key is not None and key.organization_id is not None  # CanReadEntitlements
        return await entitlements_of(info, key.organization_id)

    @strawberry.field(
        permission_classes=PARTNER,
        description="The API key's organization's audit log, newest first (entitlements:read).",
    )
    async def audit_log(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> AuditLogConnection | None:
        key = info.context.api_key
        assert key is not None and key.organization_id is not None  # CanReadEntitlements
        return await audit_log(key.organization_id, first, after)
