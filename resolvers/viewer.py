"""The signed-in user and the roles they hold, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from billing.access import Role
from resolvers import hot_reads


@dataclass(frozen=True)
class Viewer:
    user_id: UUID
    email: str
    name: str
    # organization id -> role, in the order the user joined them
    roles: dict[UUID, Role]

    @property
    def default_organization_id(self) -> UUID | None:
        return next(iter(self.roles), None)

    def role_in(self, organization_id: UUID | None) -> Role | None:
        if organization_id is None:
            return None
        return self.roles.get(organization_id)


async def load_viewer(user_id: UUID) -> Viewer | None:
    """The user and their memberships in one statement."""
    found = await hot_reads.user_and_roles(user_id)
    if found is None:
        return None
    return Viewer(user_id=found.user_id, email=found.email, name=found.name, roles=found.roles)
