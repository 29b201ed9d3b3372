"""Portal sessions (issue 14, ACC-6): the SaaS's backend asks for a one-time link into the billing
page for one user of one organization; opening the link exchanges it, exactly once and before it
expires, for a session of that user in that organization. Only a hash of the link's secret is
stored, and the exchange is one conditional UPDATE, so two concurrent openings cannot both win."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from billing.errors import BillingError, NotFoundError
from billing.provisioning import check_email
from models import Membership, PortalSession, User
from resolvers import audit
from resolvers.provisioning import organization_by_external_id


@dataclass(frozen=True)
class NewPortalSession:
    organization_external_id: str
    user_email: str
    return_url: str


@dataclass(frozen=True)
class LinkOptions:
    """From the settings (GATEWAY_PORTAL_*, GATEWAY_PUBLIC_URL) and the creating request."""

    base_url: str  # where browsers reach the gateway, without a trailing slash
    seconds: int  # how long a link stays valid
    allows: Callable[[str], bool]  # the return-URL allow-list


@dataclass(frozen=True)
class PortalLink:
    url: str  # holds the secret: shown this once
    expires_at: datetime


PATH = "/billing/session/"


class Refusal(StrEnum):
    UNKNOWN = "UNKNOWN"
    USED = "USED"
    EXPIRED = "EXPIRED"
    NOT_A_MEMBER = "NOT_A_MEMBER"  # the membership was removed after the link was made


@dataclass(frozen=True)
class Exchanged:
    user_id: UUID
    organization_id: UUID
    return_url: str


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    return_url: str | None  # known for a link that exists


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_portal_session(
    new: NewPortalSession, options: LinkOptions, actor: audit.Actor, now: datetime
) -> PortalLink:
    """The link; refuses a return URL off the allow-list, an unknown user, a non-member.
    Recorded in the organization's audit log."""
    if not options.allows(new.return_url):
        raise BillingError(
            f"The return URL {new.return_url!r} is not allowed: it must start with one of the "
            "URLs in GATEWAY_PORTAL_RETURN_URLS.",
            field="returnUrl",
            reason="RETURN_URL_NOT_ALLOWED",
        )
    organization = await organization_by_external_id(new.organization_external_id)
    email = new.user_email.strip().lower()
    check_email(email, field="userEmail")
    user = await User.get_or_none(email=email)
    if user is None:
        raise NotFoundError(
            f"No user has the e-mail {email!r}: add them with addMember first.", field="userEmail"
        )
    if not await Membership.exists(organization_id=organization.id, user_id=user.id):
        raise NotFoundError(
            f"{email} is not a member of {organization.name}: addMember first.",
            field="userEmail",
        )
    secret = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=options.seconds)
    await PortalSession.create(
        secret_hash=secret_hash(secret),
        organization_id=organization.id,
        user_id=user.id,
        api_key_id=actor.id if actor.kind == "API_KEY" else None,
        return_url=new.return_url.strip(),
        created_at=now,
        expires_at=expires_at,
    )
    summary = f"Billing page session for {email}, link valid until {expires_at.isoformat()}"
    details = {"userEmail": email, "returnUrl": new.return_url.strip()}
    await audit.record(
        organization.id, actor, audit.Action("createPortalSession", summary, details=details), now
    )
    return PortalLink(f"{options.base_url}{PATH}{secret}", expires_at)


async def exchange_portal_session(secret: str, now: datetime) -> Exchanged | Refused:
    """Marks the link used if it is unused and unexpired; only the one call whose UPDATE changed
    the row goes on to open a session."""
    hashed = secret_hash(secret)
    won = await PortalSession.filter(
        secret_hash=hashed, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    row = await PortalSession.get_or_none(secret_hash=hashed)
    if row is None:
        return Refused(Refusal.UNKNOWN, None)
    if not won:
        reason = Refusal.USED if row.used_at is not None else Refusal.EXPIRED
        return Refused(reason, row.return_url)
    if not await Membership.exists(organization_id=row.organization_id, user_id=row.user_id):
        return Refused(Refusal.NOT_A_MEMBER, row.return_url)
    return Exchanged(row.user_id, row.organization_id, row.return_url)
