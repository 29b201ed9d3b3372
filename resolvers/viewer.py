"""The signed-in user and the roles they hold, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from billing.access import Role
from models import Membership, User


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
    user = await User.get_or_none(id=user_id)
    if user is None:
        return None
    memberships = await Membership.filter(user_id=user_id).order_by("created_at", "id")
    return Viewer(
        user_id=user.id,
        email=user.email,
        name=user.name,
        roles={m.organization_id: m.role for m in memberships},
    )
