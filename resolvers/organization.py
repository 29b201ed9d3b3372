"""Finding an organization through the caller's own memberships (ACC-5)."""

from __future__ import annotations

from uuid import UUID

from billing.errors import NotFoundError
from models import Organization
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
        raise NotFoundError(
            f"No organization with id {requested_id!r} is visible to you.", field="id"
        )
    return organization


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
            raise NotFoundError(
                f"No organization with id {requested_id!r} is visible to you.", field="id"
            )
    return organization_id


def _parse_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundError(
            f"No organization with id {value!r} is visible to you.", field="id"
        ) from None
