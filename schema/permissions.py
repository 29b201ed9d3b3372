"""Field permissions (rules ACC-2, ACC-3). A refused nullable field resolves to null with a
FORBIDDEN error; the rest of the answer is kept."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from billing.access import may_manage_billing, may_read_billing
from payments.sandbox import SandboxProcessor
from resolvers.api_keys import ApiKeyPrincipal
from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "Sign in first: send 'Authorization: Bearer <token>'."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer is not None


class CanReadCatalog(BasePermission):
    """ACC-3: the catalog, list prices included, is public, so a pricing page works before
    sign-up; GATEWAY_PUBLIC_CATALOG=false keeps it for signed-in callers."""

    message = (
        "The catalog is not public on this gateway (GATEWAY_PUBLIC_CATALOG=false): "
        "send 'Authorization: Bearer <token>'."
    )
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        return context.public_catalog or context.viewer is not None or context.api_key is not None


class CanReadBilling(BasePermission):
    """ACC-3: what an organization pays is for its owner and billing admins.

    Objects that belong to an organization carry its id; others use the caller's own (default)
    organization.
    """

    message = "Only the organization's owner or a billing admin can see prices and amounts."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        organization_id = getattr(source, "organization_id", None)
        context = info.context
        role = context.role_in(organization_id) if organization_id else context.active_role
        return may_read_billing(role)


class CanReadNotifications(CanReadBilling):
    """NOT-1: notices go to the owner and billing admins, so only they read them."""

    message = (
        "Notifications are for the organization's owner and billing admins: ask one of them, or"
        " ask the owner for the billing admin role."
    )


class CanManageBilling(BasePermission):
    """ACC-2: billing actions are for the owner and billing admins of the caller's organization."""

    message = "Only the organization's owner or a billing admin can change billing."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return may_manage_billing(info.context.active_role)


class SandboxOnly(BasePermission):
    message = "Only in sandbox mode (GATEWAY_MODE=sandbox)."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.sandbox


class SandboxProcessorOnly(BasePermission):
    """Pretending a payment happened is for the sandbox processor only: never with Stripe."""

    message = "Only with the sandbox payment processor."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.sandbox and isinstance(info.context.processor, SandboxProcessor)


class IsCaller(BasePermission):
    """A signed-in user or an API key."""

    message = "Sign in first: send 'Authorization: Bearer <token or API key>'."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer is not None or info.context.api_key is not None


class CanRefund(BasePermission):
    """INV-5: refunds are for operators holding an API key with scope billing:refund."""

    message = "Refunds need an API key with the scope billing:refund."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        key = info.context.api_key
        return key is not None and not key.is_platform and "billing:refund" in key.scopes


class CanRecordUsage(BasePermission):
    """USE-1: partner integrations with an API key of scope usage:write; in sandbox mode, billing
    managers too (to try the metering by hand)."""

    message = "Recording usage needs an API key with the scope usage:write."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        if context.api_key is not None:
            return key_records_usage(context.api_key)
        return context.sandbox and may_manage_billing(context.active_role)


def key_records_usage(key: ApiKeyPrincipal) -> bool:
    """USE-1: an organization's API key of scope usage:write (CanRecordUsage)."""
    return not key.is_platform and "usage:write" in key.scopes


class _OrganizationKeyScope(BasePermission):
    """An API key of one organization carrying `scope` (a platform key never carries these)."""

    scope: str
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        key = info.context.api_key
        return key is not None and key.organization_id is not None and self.scope in key.scopes


class CanReadEntitlements(_OrganizationKeyScope):
    """EVT-2: a partner (the SaaS backend) with an API key of scope entitlements:read."""

    scope = "entitlements:read"
    message = "Reading entitlements needs an API key with the scope entitlements:read."


class CanOperateBilling(_OrganizationKeyScope):
    """Staff actions (credit, trial, invoice status, offline payments): an API key of scope
    billing:operate."""

    scope = "billing:operate"
    message = "Staff actions need an API key with the scope billing:operate."


class CanReadAuditLog(CanReadBilling):
    """The audit log carries amounts: owners and billing admins only (ACC-3)."""

    message = "The audit log is for the organization's owner and billing admins: ask one of them."
