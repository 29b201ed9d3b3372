"""API keys (ACC-6): partner and operator keys bound to one organization, and platform keys (the
SaaS's backend) bound to none, each with scopes of its kind."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from billing.errors import BillingError, NotFoundError
from models import ApiKey, Organization
from resolvers.caller_cache import forget_callers

KEY_PREFIX = "bgk_"
# Keys bound to one organization.
ORGANIZATION_SCOPES = frozenset(
    {"billing:refund", "usage:write", "entitlements:read", "billing:operate", "exports:read"}
)
# PRV-1: platform keys provision organizations; none of these makes a billing action (ACC-2).
PLATFORM_SCOPES = frozenset(
    {
        "organizations:write",
        "organizations:read",
        "webhooks:write",
        "audit:read",
        "portal:write",
        "coupons:write",  # DSC-1: coupons and promotion codes, for no organization in particular
        "exports:read",  # finance exports of every organization (GET /exports/...)
    }
)
SCOPES = ORGANIZATION_SCOPES | PLATFORM_SCOPES


@dataclass(frozen=True)
class ApiKeyPrincipal:
    key_id: UUID
    organization_id: UUID | None  # None: a platform key (ACC-6)
    scopes: frozenset[str]

    @property
    def is_platform(self) -> bool:
        return self.organization_id is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_scopes(scopes: list[str], platform: bool) -> None:
    allowed, kind = (
        (PLATFORM_SCOPES, "a platform key (--platform)")
        if platform
        else (ORGANIZATION_SCOPES, "an organization's key")
    )
    unknown = sorted(set(scopes) - allowed)
    if not unknown and scopes:
        return
    hint = ""
    if set(unknown) <= SCOPES and unknown:
        hint = (
            " Platform keys carry only provisioning scopes and organization keys none (ACC-6):"
            " make a key of the other kind for those."
        )
    raise BillingError(
        f"Scopes must be some of {sorted(allowed)} for {kind}, got {scopes}.{hint}",
        field="scopes",
    )


async def create_api_key(
    organization_slug: str | None, name: str, scopes: list[str], now: datetime
) -> str:
    """The key, shown this once; only a hash of its secret is stored. Without an organization,
    a platform key (ACC-6)."""
    _check_scopes(scopes, platform=organization_slug is None)
    organization = None
    if organization_slug is not None:
        organization = await Organization.get_or_none(slug=organization_slug)
        if organization is None:
            raise NotFoundError(f"No organization {organization_slug!r}.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    await ApiKey.create(
        organization=organization,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        created_at=now,
    )
    return f"{KEY_PREFIX}{prefix}_{secret}"


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


@dataclass(frozen=True)
class StoredKey:
    """An active key as stored: what a process may keep to check its secret without a query."""

    principal: ApiKeyPrincipal
    secret_hash: str

    def opens(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, _hash(secret))


def split_api_key(token: str) -> tuple[str, str]:
    """The key's prefix (its lookup) and its secret."""
    prefix, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
    return prefix, secret


async def stored_key(prefix: str) -> StoredKey | None:
    """The active (not revoked) key with this prefix."""
    key = await ApiKey.get_or_none(prefix=prefix, revoked_at__isnull=True)
    if key is None:
        return None
    principal = ApiKeyPrincipal(key.id, key.organization_id, frozenset(key.scopes))
    return StoredKey(principal, key.secret_hash)


async def find_api_key(token: str) -> ApiKeyPrincipal | None:
    prefix, secret = split_api_key(token)
    stored = await stored_key(prefix)
    return stored.principal if stored is not None and stored.opens(secret) else None


@dataclass(frozen=True)
class ApiKeyListing:
    """What an operator sees of a key: never its secret."""

    key_id: UUID
    prefix: str
    organization_slug: str | None  # None: a platform key
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def _listing(key: ApiKey) -> ApiKeyListing:
    return ApiKeyListing(
        key.id,
        f"{KEY_PREFIX}{key.prefix}",
        key.organization.slug if key.organization is not None else "",  # a platform key
        key.name,
        tuple(key.scopes),
        key.created_at,
        key.revoked_at,
    )


async def list_api_keys(organization_slug: str | None = None) -> list[ApiKeyListing]:
    query = ApiKey.all().select_related("organization").order_by("created_at", "prefix")
    if organization_slug is not None:
        if not await Organization.exists(slug=organization_slug):
            raise NotFoundError(f"No organization {organization_slug!r}.")
        query = query.filter(organization__slug=organization_slug)
    return [_listing(key) for key in await query]


async def revoke_api_key(reference: str, now: datetime) -> tuple[ApiKeyListing, bool]:
    """Revokes the key named by its id, its prefix (`bgk_…` or without `bgk_`) or the whole key;
    the key as it is now, and whether this call revoked it (False: it already was)."""
    key = await _find_for_revocation(reference.strip())
    if key is None:
        raise NotFoundError(
            f"No API key {reference!r}: give its id or prefix as 'billing-gateway api-key list' "
            "shows them."
        )
    if key.revoked_at is not None:
        return _listing(key), False
    key.revoked_at = now
    await key.save(update_fields=["revoked_at"])
    forget_callers()  # refused at once by this process; by others within their cache's time
    return _listing(key), True


async def _find_for_revocation(reference: str) -> ApiKey | None:
    query = ApiKey.all().select_related("organization")
    try:
        return await query.get_or_none(id=UUID(reference))
    except ValueError:
        prefix = reference.removeprefix(KEY_PREFIX).partition("_")[0]
        return await query.get_or_none(prefix=prefix) if prefix else None
