"""Who may do what inside an organization (rules ACC-1 to ACC-4)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "OWNER"
    BILLING_ADMIN = "BILLING_ADMIN"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


BILLING_ROLES = frozenset({Role.OWNER, Role.BILLING_ADMIN})


def may_read_billing(role: Role | None) -> bool:
    """ACC-3: prices, invoices, payment methods, billing information, usage costs."""
    return role in BILLING_ROLES


def may_manage_billing(role: Role | None) -> bool:
    """ACC-2: plan changes, seats, add-ons, preferences, payment methods, paying invoices."""
    return role in BILLING_ROLES


def may_cancel(role: Role | None, billing_admin_may_cancel: bool) -> bool:
    """ACC-4: the owner only, unless the catalog widens cancellation to billing admins."""
    return role is Role.OWNER or (billing_admin_may_cancel and role is Role.BILLING_ADMIN)
