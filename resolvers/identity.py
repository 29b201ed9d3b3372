"""The user an identity provider's token names (PRV-2): found by external id, or provisioned
just in time when the gateway is configured to (GATEWAY_JWT_JIT)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from billing.access import Role
from billing.errors import UnauthenticatedError
from models import Membership, Organization, User
from resolvers.caller_cache import forget_callers
from resolvers.viewer import Viewer, load_viewer

_EMAIL_TAKEN = (
    "The e-mail {email!r} already belongs to another user of this gateway: give that user this "
    "external id through provisioning rather than creating a second one."
)


@dataclass(frozen=True)
class SignIn:
    """The claims of a verified token, and what to do for a user the gateway does not know."""

    external_id: str
    email: str | None
    name: str | None
    organization_external_id: str | None
    jit_role: Role | None  # None: no just-in-time provisioning


async def viewer_for_sign_in(sign_in: SignIn) -> Viewer:
    organization = await _organization(sign_in.organization_external_id)
    user = await User.get_or_none(external_id=sign_in.external_id)
    role = sign_in.jit_role
    if user is None and role is None:
        raise UnauthenticatedError(
            f"The token names a user who is not provisioned in this gateway (external id "
            f"{sign_in.external_id!r}): provision them first, or turn on GATEWAY_JWT_JIT."
        )
    viewer = await load_viewer(user.id) if user is not None else None
    if role is not None and (user is None or _joins(viewer, organization)):
        viewer = await load_viewer(await _provision(sign_in, user, organization, role))
    if viewer is None:
        raise UnauthenticatedError("The token names a user that no longer exists.")
    if organization is None:
        return viewer
    if viewer.role_in(organization.id) is None:
        raise UnauthenticatedError(
            f"The token names organization {sign_in.organization_external_id!r}, of which this "
            "user is not a member: add the membership first, or turn on GATEWAY_JWT_JIT."
        )
    # The organization the token names comes first: it is what the viewer acts on by default.
    roles = {organization.id: viewer.roles[organization.id], **viewer.roles}
    return replace(viewer, roles=roles)


def _joins(viewer: Viewer | None, organization: Organization | None) -> bool:
    """Whether just-in-time provisioning adds a known user to the token's organization."""
    return (
        viewer is not None and organization is not None and viewer.role_in(organization.id) is None
    )


async def _organization(external_id: str | None) -> Organization | None:
    if external_id is None:
        return None
    organization = await Organization.get_or_none(external_id=external_id)
    if organization is None:
        raise UnauthenticatedError(
            f"The token names organization {external_id!r}, which is not provisioned in this "
            "gateway: provision it first."
        )
    return organization


async def _provision(
    sign_in: SignIn, user: User | None, organization: Organization | None, role: Role
) -> UUID:
    """The user, created if new, and a member of the token's organization (never its owner)."""
    if user is None and sign_in.email is None:
        raise UnauthenticatedError(
            "The token carries no e-mail (GATEWAY_JWT_EMAIL_CLAIM), which a new user needs."
        )
    try:
        async with in_transaction():
            if user is None:
                user = await _new_user(sign_in)
            if organization is not None:
                await Membership.get_or_create(
                    organization_id=organization.id, user_id=user.id, defaults={"role": role}
                )
    except IntegrityError:
        # A concurrent first sign-in made the same user or membership: use theirs.
        existing = await User.get_or_none(external_id=sign_in.external_id)
        if existing is None:
            raise UnauthenticatedError(_EMAIL_TAKEN.format(email=sign_in.email)) from None
        return existing.id
    finally:
        forget_callers()  # a new user or membership
    return user.id


async def _new_user(sign_in: SignIn) -> User:
    email = sign_in.email or ""
    if await User.filter(email=email).exists():
        raise UnauthenticatedError(_EMAIL_TAKEN.format(email=email))
    return await User.create(
        external_id=sign_in.external_id, email=email, name=sign_in.name or email
    )
