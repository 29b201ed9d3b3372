"""API keys for partners and operators (ACC-6): bound to one organization, with scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from billing.errors import BillingError, NotFoundError
from models import ApiKey, Organization

KEY_PREFIX = "bgk_"
SCOPES = frozenset({"billing:refund", "usage:write"})


@dataclass(frozen=True)
class ApiKeyPrincipal:
    key_id: UUID
    organization_id: UUID
    scopes: frozenset[str]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(
    organization_slug: str, name: str, scopes: list[str], now: datetime
) -> str:
    """The key, shown this once; only a hash of its secret is stored."""
    unknown = sorted(set(scopes) - SCOPES)
    if unknown or not scopes:
        raise BillingError(
            f"Scopes must be some of {sorted(SCOPES)}, got {scopes}.", field="scopes"
        )
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


async def find_api_key(token: str) -> ApiKeyPrincipal | None:
    prefix, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
    key = await ApiKey.get_or_none(prefix=prefix, revoked_at__isnull=True)
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    return ApiKeyPrincipal(key.id, key.organization_id, frozenset(key.scopes))
