"""Members and workspaces of a provisioned organization (PRV-1): roles with exactly one owner
(ACC-1). Each call answers the organization and whether it changed anything (a resend does not)."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from billing.access import Role
from billing.errors import BillingError, NotFoundError
from billing.provisioning import (
    check_new_member_role,
    check_previous_owner_role,
    check_removal,
    check_role_change,
    check_slug,
)
from models import Membership, Organization, Workspace
from resolvers.caller_cache import forget_callers
from resolvers.locks import lock_organization
from resolvers.provisioning import (
    Person,
    Provisioned,
    find_or_create_user,
    organization_by_external_id,
)


async def add_member(organization_external_id: str, person: Person, role: Role) -> Provisioned:
    organization = await organization_by_external_id(organization_external_id)
    async with in_transaction():
        await lock_organization(organization.id)
        user = await find_or_create_user(person)
        existing = await Membership.get_or_none(organization=organization, user=user)
        if existing is not None:
            if existing.role is not role:
                raise BillingError(
                    f"{user.email} is already a member, as {existing.role.value}: use "
                    "changeMemberRole to change the role.",
                    field="role",
                )
            return Provisioned(organization, changed=False)
        check_new_member_role(role)
        await Membership.create(organization=organization, user=user, role=role)
    forget_callers()  # the members' roles changed: no process keeps the old ones here
    return Provisioned(organization, changed=True)


async def _membership(organization: Organization, email: str) -> Membership:
    membership = await Membership.get_or_none(
        organization=organization, user__email=email.strip().lower()
    ).select_related("user")
    if membership is None:
        raise NotFoundError(
            f"{email} is not a member of {organization.name}: addMember first.", field="email"
        )
    return membership


async def change_member_role(organization_external_id: str, email: str, role: Role) -> Provisioned:
    organization = await organization_by_external_id(organization_external_id)
    async with in_transaction():
        await lock_organization(organization.id)
        membership = await _membership(organization, email)
        if membership.role is role:
            return Provisioned(organization, changed=False)
        check_role_change(membership.role, role)
        membership.role = role
        await membership.save(update_fields=["role"])
    forget_callers()  # the members' roles changed: no process keeps the old ones here
    return Provisioned(organization, changed=True)


async def transfer_ownership(
    organization_external_id: str, email: str, previous_owner_role: Role
) -> Provisioned:
    """ACC-1: the new owner is a member already; the old one keeps `previous_owner_role`."""
    check_previous_owner_role(previous_owner_role)
    organization = await organization_by_external_id(organization_external_id)
    async with in_transaction():
        await lock_organization(organization.id)
        new_owner = await _membership(organization, email)
        if new_owner.role is Role.OWNER:
            return Provisioned(organization, changed=False)
        # The owner is demoted first: one owner per organization is a unique index.
        await Membership.filter(organization=organization, role=Role.OWNER).update(
            role=previous_owner_role
        )
        new_owner.role = Role.OWNER
        await new_owner.save(update_fields=["role"])
    forget_callers()  # the members' roles changed: no process keeps the old ones here
    return Provisioned(organization, changed=True)


async def remove_member(organization_external_id: str, email: str) -> Provisioned:
    """Never the owner (ACC-1); removing someone who is not a member answers unchanged."""
    organization = await organization_by_external_id(organization_external_id)
    async with in_transaction():
        await lock_organization(organization.id)
        membership = await Membership.get_or_none(
            organization=organization, user__email=email.strip().lower()
        )
        if membership is None:
            return Provisioned(organization, changed=False)
        check_removal(membership.role)
        await membership.delete()
    forget_callers()  # the members' roles changed: no process keeps the old ones here
    return Provisioned(organization, changed=True)


async def create_workspace(organization_external_id: str, slug: str, name: str) -> Provisioned:
    """Idempotent by the workspace's slug within the organization."""
    organization = await organization_by_external_id(organization_external_id)
    check_slug(slug)
    if await Workspace.exists(organization=organization, slug=slug):
        return Provisioned(organization, changed=False)
    if not name.strip():
        raise BillingError("The workspace's name is required.", field="name")
    try:
        await Workspace.create(organization=organization, slug=slug, name=name.strip())
    except IntegrityError:  # a concurrent resend made it first
        return Provisioned(organization, changed=False)
    return Provisioned(organization, changed=True)


async def archive_workspace(organization_external_id: str, slug: str, now: datetime) -> Provisioned:
    """The workspace stays, with its usage history; it takes no more usage (USE-1)."""
    organization = await organization_by_external_id(organization_external_id)
    workspace = await Workspace.get_or_none(organization=organization, slug=slug)
    if workspace is None:
        raise NotFoundError(f"No workspace {slug!r} in {organization.name}.", field="slug")
    if workspace.archived_at is not None:
        return Provisioned(organization, changed=False)
    workspace.archived_at = now
    await workspace.save(update_fields=["archived_at"])
    return Provisioned(organization, changed=True)
