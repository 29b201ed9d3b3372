"""Provisioning rules (PRV-1): who may hold which role (ACC-1: exactly one owner), what a slug and
a trial look like. Pure: the resolvers load the facts and write what these allow."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from billing.access import Role
from billing.errors import BillingError

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_TRIAL_DAYS = 90
DEFAULT_TRIAL_DAYS = 14


def check_slug(slug: str, field: str = "slug") -> None:
    if not SLUG.fullmatch(slug):
        raise BillingError(
            f"{slug!r} is not a slug: use 1 to 64 lowercase letters, digits and inner hyphens, "
            "such as 'acme-eu'.",
            field=field,
        )


def check_email(email: str, field: str = "email") -> None:
    if not EMAIL.fullmatch(email):
        raise BillingError(f"{email!r} is not an e-mail address.", field=field)


def check_external_id(external_id: str, field: str = "externalId") -> None:
    if not external_id.strip() or len(external_id) > 200:
        raise BillingError("An external id is 1 to 200 characters, not blank.", field=field)


def check_new_member_role(role: Role) -> None:
    """ACC-1: the organization already has its owner; a second one is never added."""
    if role is Role.OWNER:
        raise BillingError(
            "An organization has exactly one owner (ACC-1): add this person with another role, "
            "then transferOwnership to make them the owner.",
            field="role",
        )


def check_role_change(current: Role, wanted: Role) -> None:
    """ACC-1: the owner's role changes only by handing ownership to someone else."""
    if wanted is Role.OWNER and current is not Role.OWNER:
        raise BillingError(
            "An organization has exactly one owner (ACC-1): use transferOwnership to make this "
            "member the owner.",
            field="role",
        )
    if current is Role.OWNER and wanted is not Role.OWNER:
        raise BillingError(
            "This member is the owner and an organization always has one (ACC-1): "
            "transferOwnership to another member first.",
            field="role",
        )


def check_removal(role: Role) -> None:
    if role is Role.OWNER:
        raise BillingError(
            "The owner cannot be removed: an organization always has exactly one owner (ACC-1). "
            "transferOwnership to another member first, then remove this one.",
            field="email",
        )


def check_previous_owner_role(role: Role) -> None:
    if role is Role.OWNER:
        raise BillingError(
            "The previous owner needs another role (BILLING_ADMIN, ADMIN or MEMBER): "
            "there is exactly one owner (ACC-1).",
            field="previousOwnerRole",
        )


def trial_period(now: datetime, days: int) -> tuple[datetime, datetime]:
    """SUB-2: a trial runs `days` from now and charges nothing, so it needs no card."""
    if not 1 <= days <= MAX_TRIAL_DAYS:
        raise BillingError(
            f"A trial lasts 1 to {MAX_TRIAL_DAYS} days, not {days}.", field="trialDays"
        )
    start = now.replace(microsecond=0)
    return start, start + timedelta(days=days)
