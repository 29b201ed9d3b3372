"""Bearer tokens: signed JWTs naming a user (PyJWT): the gateway's own (HS256) and, where one
is configured, the SaaS's identity provider's (RS256/ES256, gateway/identity_provider.py).

Token lifetimes run on wall-clock time, not on the billing clock: moving a sandbox test clock
forward must not sign everybody out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from billing.errors import UnauthenticatedError
from gateway.identity_provider import ALGORITHMS as PROVIDER_ALGORITHMS
from gateway.identity_provider import identity_provider
from gateway.settings import Settings
from gateway.verified_tokens import VerifiedTokens
from resolvers import caller_cache
from resolvers.api_keys import (
    ApiKeyPrincipal,
    StoredKey,
    is_api_key,
    split_api_key,
    stored_key,
)
from resolvers.identity import SignIn, viewer_for_sign_in
from resolvers.viewer import Viewer, load_viewer

ISSUER = "billing-gateway"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenSubject:
    user_id: UUID
    # A portal session's token (`org` claim): the user acts on this organization only.
    organization_id: UUID | None = None


def issue_token(
    user_id: UUID,
    secret: str,
    ttl_seconds: int,
    now: datetime | None = None,
    *,
    organization_id: UUID | None = None,
) -> str:
    issued_at = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "iat": issued_at,
        "exp": issued_at + timedelta(seconds=ttl_seconds),
    }
    if organization_id is not None:
        claims["org"] = str(organization_id)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is no header."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("Malformed Authorization header: expected 'Bearer <token>'.")
    return token.strip()


def verify_token(token: str, secret: str, max_lifetime_seconds: int) -> TokenSubject:
    """The user a token names; a token issued for longer than `max_lifetime_seconds` is refused,
    so a leaked long-lived token is worthless (GATEWAY_TOKEN_MAX_LIFETIME_SECONDS)."""
    subject = _VERIFIED.get(token, secret, max_lifetime_seconds)
    if subject is None:
        subject, expires = _verified(token, secret, max_lifetime_seconds)
        _VERIFIED.put(token, secret, max_lifetime_seconds, subject, expires)
    return subject


def _verified(token: str, secret: str, max_lifetime_seconds: int) -> tuple[TokenSubject, int]:
    """The subject and the `exp` PyJWT checks against."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise UnauthenticatedError("The token has expired: sign in again for a new one.") from None
    except jwt.InvalidSignatureError:
        raise UnauthenticatedError("The token's signature is not valid for this gateway.") from None
    except jwt.InvalidTokenError as error:
        raise UnauthenticatedError(f"The token is not valid: {error}.") from None
    issued, expires = claims["iat"], claims["exp"]
    numbers = all(isinstance(t, int | float) and not isinstance(t, bool) for t in (issued, expires))
    if not numbers:
        raise UnauthenticatedError("The token's iat and exp are not numbers of seconds.")
    if expires - issued > max_lifetime_seconds:
        raise UnauthenticatedError(
            f"The token is valid for longer than this gateway accepts (at most "
            f"{max_lifetime_seconds} seconds from its issue): sign in again for a shorter one."
        )
    try:
        user_id = UUID(claims["sub"])
    except (ValueError, TypeError):
        raise UnauthenticatedError("The token does not name a user.") from None
    try:
        organization_id = UUID(claims["org"]) if "org" in claims else None
    except (ValueError, TypeError):
        raise UnauthenticatedError("The token names no valid organization.") from None
    return TokenSubject(user_id, organization_id), int(claims["exp"])


_VERIFIED: VerifiedTokens[TokenSubject] = VerifiedTokens()


Caller = Viewer | ApiKeyPrincipal
CallerCache = caller_cache.CallerCache[StoredKey | Viewer]


async def authenticate(
    authorization: str | None, settings: Settings, callers: CallerCache | None = None
) -> Caller | None:
    """The caller, or None for an anonymous request; a bad token is refused outright. With
    `callers`, a caller found by an earlier request of this process costs no query."""
    token = bearer_token(authorization)
    if token is None:
        return None
    if is_api_key(token):
        return await _api_key(token, callers)
    secret, lifetime = settings.jwt_secret, settings.token_max_lifetime_seconds
    # A token verified before is one of this gateway's (HS256), not the identity provider's.
    subject = _VERIFIED.get(token, secret, lifetime)
    if subject is None:
        if _algorithm(token) in PROVIDER_ALGORITHMS:
            return await _provider_viewer(token, settings, callers)
        subject = verify_token(token, secret, lifetime)
    viewer = await _kept(callers, ("user", subject.user_id), lambda: load_viewer(subject.user_id))
    if not isinstance(viewer, Viewer):
        raise UnauthenticatedError("The token names a user that no longer exists.")
    return viewer if subject.organization_id is None else _bound(viewer, subject.organization_id)


def _bound(viewer: Viewer, organization_id: UUID) -> Viewer:
    """A portal session's viewer: only the session's organization, with today's role in it."""
    role = viewer.role_in(organization_id)
    if role is None:
        raise UnauthenticatedError(
            "This billing session is for an organization the user no longer belongs to: open "
            "the billing page from your application again."
        )
    return replace(viewer, roles={organization_id: role})


async def _api_key(token: str, callers: CallerCache | None) -> ApiKeyPrincipal:
    prefix, secret = split_api_key(token)
    stored = await _kept(callers, ("api-key", prefix), lambda: stored_key(prefix))
    if not isinstance(stored, StoredKey) or not stored.opens(secret):
        raise UnauthenticatedError("Unknown or revoked API key.")
    return stored.principal


async def _kept(
    callers: CallerCache | None,
    key: Hashable,
    find: Callable[[], Awaitable[StoredKey | Viewer | None]],
) -> StoredKey | Viewer | None:
    """The kept caller, or the one `find` finds (then kept)."""
    if callers is None:
        return await find()
    kept = callers.get(key)
    if kept is not None:
        return kept
    generation = callers.generation
    found = await find()
    if found is not None:
        callers.put(key, found, generation)
    return found


def _algorithm(token: str) -> str | None:
    """The header's `alg`; an unreadable header is left to verify_token to refuse."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        return None
    return algorithm if isinstance(algorithm, str) else None


async def _provider_viewer(token: str, settings: Settings, callers: CallerCache | None) -> Viewer:
    provider_settings = settings.identity_provider
    if provider_settings is None:
        raise UnauthenticatedError(
            "The token is signed with a public key (RS256/ES256), but this gateway trusts no "
            "identity provider (GATEWAY_JWT_JWKS_URL is not set): use a token of this gateway."
        )
    provider = identity_provider(provider_settings)
    claims = await provider.verify(token, settings.token_max_lifetime_seconds)
    sign_in = SignIn(
        external_id=claims.external_id,
        email=claims.email,
        name=claims.name,
        organization_external_id=claims.organization_external_id,
        jit_role=provider_settings.jit_role if provider_settings.jit else None,
    )
    viewer = await _kept(callers, ("sign-in", sign_in), lambda: viewer_for_sign_in(sign_in))
    assert isinstance(viewer, Viewer)  # viewer_for_sign_in finds one or raises
    return viewer
