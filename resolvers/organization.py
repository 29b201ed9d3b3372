"""Finding an organization through the caller's own memberships (ACC-5)."""

from __future__ import annotations

from uuid import UUID

from billing.errors import NotFoundError
from models import Organization
from resolvers import hot_reads
from resolvers.loaders import Loaders
from resolvers.viewer import Viewer


async def find_organization(
    viewer: Viewer, loaders: Loaders, requested_id: str | None
) -> Organization:
    """The organization the caller asked for, or their first one; another tenant's id finds
    nothing, exactly like an id that does not exist."""
    organization_id = member_organization_id(viewer, requested_id)
    organization: Organization | None = await loaders.organization.load(organization_id)
    if organization is None:
        raise not_visible(requested_id)
    return organization


async def find_organization_and_subscription(
    viewer: Viewer, loaders: Loaders, requested_id: str | None
) -> hot_reads.OrganizationRows:
    """As `find_organization`, with its subscription, items and add-ons, in one statement; the
    request's loaders are given what was read (no field reads it again)."""
    read = await read_organization_and_subscription(
        loaders, member_organization_id(viewer, requested_id)
    )
    if read is None:
        raise not_visible(requested_id)
    return read


async def read_organization_and_subscription(
    loaders: Loaders, organization_id: UUID
) -> hot_reads.OrganizationRows | None:
    """The organization with its subscription, items and add-ons, in one statement, given to
    the request's loaders (no field reads them again); None when the organization is gone."""
    read = await hot_reads.organization_and_subscription(organization_id)
    if read is None:
        return None
    loaders.organization.prime(organization_id, read.organization)
    loaders.subscription_by_organization.prime(organization_id, read.subscription)
    if read.subscription is not None:
        # The loaders' orders: items by id, add-ons by id.
        items = sorted(read.items, key=lambda item: item.id)
        loaders.items_by_subscription.prime(read.subscription.id, items)
        for item in items:
            add_ons = [a for a in read.add_ons if a.item_id == item.id]
            loaders.add_ons_by_item.prime(item.id, sorted(add_ons, key=lambda a: a.id))
    return read


def not_visible(requested_id: str | None) -> NotFoundError:
    """What an organization the caller may not see, or that does not exist, gives (ACC-5)."""
    return NotFoundError(f"No organization with id {requested_id!r} is visible to you.", field="id")


def member_organization_id(viewer: Viewer, requested_id: str | None) -> UUID:
    """`find_organization`'s answer without reading the row: the caller's roles say it."""
    if requested_id is None:
        organization_id = viewer.default_organization_id
        if organization_id is None:
            raise NotFoundError(
                "You are not a member of any organization yet: "
                "ask an organization's owner to invite you."
            )
    else:
        organization_id = _parse_id(requested_id)
        if viewer.role_in(organization_id) is None:
            raise not_visible(requested_id)
    return organization_id


def _parse_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise not_visible(value) from None
